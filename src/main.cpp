#include "cli/app.h"

int main(int argc, char** argv) { return hfm::cli::run_main(argc, argv); }
