// The hfmirror command line: parses flags, wires the layers together, renders
// progress and results, and maps errors to documented exit codes.
#pragma once

namespace hfm::cli {

int run_main(int argc, char** argv);

}  // namespace hfm::cli
