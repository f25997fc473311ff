#include "support/hub_emulator_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace hfm::testing {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "hfm-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

HubEmulatorProcess::HubEmulatorProcess(std::vector<std::string> spec_files) : control_(http::ClientSettings{}) {
  std::string tmpl = (fs::temp_directory_path() / "hfm-emu-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return;
  work_dir_ = tmpl;
  const std::string script = std::string(HFM_SOURCE_DIR) + "/tests/emulators/hub/hub_emulator.py";
  const std::string ready = (work_dir_ / "ready.json").string();
  const std::string data = (work_dir_ / "data").string();
  std::vector<std::string> args = {HFM_PYTHON, script, "--quiet", "--data-dir", data, "--ready-file", ready};
  for (const auto& s : spec_files) {
    args.push_back("--spec");
    args.push_back(std::string(HFM_SOURCE_DIR) + "/tests/emulators/hub/specs/" + s);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, HFM_PYTHON, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return;
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(ready);
    if (in) {
      try {
        const auto j = nlohmann::json::parse(in);
        hub_url_ = j.at("hub").get<std::string>();
        cdn_url_ = j.at("cdn").get<std::string>();
        return;
      } catch (const std::exception&) {
        // not complete yet
      }
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

HubEmulatorProcess::~HubEmulatorProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 50 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  if (!work_dir_.empty()) fs::remove_all(work_dir_, ec);
}

nlohmann::json HubEmulatorProcess::call(const std::string& method, const std::string& path, const std::string& body) {
  http::Request r;
  r.method = method;
  r.url = hub_url_ + path;
  r.body = body;
  r.retry = false;
  if (!body.empty()) r.headers.set("Content-Type", "application/json");
  auto resp = control_.perform(std::move(r));
  if (!resp || resp->status != 200) throw std::runtime_error("emulator control call failed: " + path);
  return nlohmann::json::parse(resp->body);
}

nlohmann::json HubEmulatorProcess::requests() { return call("GET", "/_emulator/requests"); }
void HubEmulatorProcess::clear_requests() { call("POST", "/_emulator/requests/clear", "{}"); }
void HubEmulatorProcess::set_faults(const nlohmann::json& faults) { call("POST", "/_emulator/faults", faults.dump()); }
void HubEmulatorProcess::clear_faults() { call("POST", "/_emulator/faults/clear", "{}"); }

void HubEmulatorProcess::move_branch(const std::string& repo, const std::string& branch, const std::string& commit) {
  call("POST", "/_emulator/branch",
       nlohmann::json{{"repo", repo}, {"type", "model"}, {"branch", branch}, {"commit", commit}}.dump());
}

nlohmann::json HubEmulatorProcess::expected_files(const std::string& repo, const std::string& rev,
                                                  const std::string& type) {
  return call("GET", "/_emulator/repos/" + type + "/" + repo + "/files?rev=" + rev);
}

}  // namespace hfm::testing
