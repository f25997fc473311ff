// Starts the Hub emulator (tests/emulators/hub/hub_emulator.py) as a child
// process for integration tests, waits until it is ready, and offers small
// helpers for its control API. The process is killed in the destructor.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "http/client.h"

namespace hfm::testing {

class HubEmulatorProcess {
 public:
  explicit HubEmulatorProcess(std::vector<std::string> spec_files);
  ~HubEmulatorProcess();
  HubEmulatorProcess(const HubEmulatorProcess&) = delete;
  HubEmulatorProcess& operator=(const HubEmulatorProcess&) = delete;

  bool ok() const { return !hub_url_.empty(); }
  const std::string& hub_url() const { return hub_url_; }
  const std::string& cdn_url() const { return cdn_url_; }

  nlohmann::json requests();
  void clear_requests();
  void set_faults(const nlohmann::json& faults);
  void clear_faults();
  void move_branch(const std::string& repo, const std::string& branch, const std::string& commit);
  nlohmann::json expected_files(const std::string& repo, const std::string& rev, const std::string& type = "model");

 private:
  nlohmann::json call(const std::string& method, const std::string& path, const std::string& body = "");

  std::filesystem::path work_dir_;
  int pid_ = -1;
  std::string hub_url_;
  std::string cdn_url_;
  http::Client control_;
};

// A fresh temporary folder, removed in the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace hfm::testing
