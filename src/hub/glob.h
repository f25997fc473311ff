// huggingface_hub allow/ignore pattern semantics (`--include` / `--exclude`),
// so a pattern selects the same files here as in `hf download`: Python's
// fnmatch.fnmatchcase, where '*' also matches '/' (hub-protocol.md §10.2).
// Matching is on Unicode code points of UTF-8 text, as Python matches str.
// Not a shell glob: no "**", no brace expansion, no escaping.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hfm::hub {

// Exactly Python's fnmatch.fnmatchcase(name, pattern): '*' any run of
// characters (including '/'), '?' one character, "[seq]", "[!seq]", ranges
// ("[a-z]"), a literal '[' when unclosed; case-sensitive.
bool fnmatch_case(std::string_view pattern, std::string_view name);

// huggingface_hub's filter_repo_objects: backslashes become '/' in patterns and
// paths, a pattern ending in '/' gets '*' appended ("data/" → "data/*"), and a
// path is kept if (there is no include pattern or it matches one) and it
// matches no exclude pattern.
class PathFilter {
 public:
  PathFilter(std::vector<std::string> include, std::vector<std::string> exclude);

  bool keep(std::string_view path) const;
  // True when the filter keeps every path.
  bool empty() const { return include_.empty() && exclude_.empty(); }

 private:
  std::vector<std::string> include_;
  std::vector<std::string> exclude_;
};

}  // namespace hfm::hub
