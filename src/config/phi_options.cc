#include "config/phi_options.h"

#include <fstream>

#include "phi/types.h"
#include "phi/utf8.h"

namespace baagate::config {

core::Result<std::vector<std::string>> ReadListFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::InvalidArgumentError("cannot read list file " + path);
  std::vector<std::string> out;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    // A byte-order mark (lists exported from spreadsheets) is not part of the first entry.
    if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    std::size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    std::size_t e = line.find_last_not_of(" \t\r");
    // Runs of blanks inside an entry become one space: "Ann  Lee" is "Ann Lee".
    std::string entry;
    for (std::size_t k = b; k <= e; ++k) {
      char c = line[k] == '\t' ? ' ' : line[k];
      if (c == ' ' && !entry.empty() && entry.back() == ' ') continue;
      entry += c;
    }
    if (!phi::IsValidUtf8(entry)) {
      return core::InvalidArgumentError(path + ":" + std::to_string(line_no) + ": not UTF-8");
    }
    out.push_back(std::move(entry));
  }
  if (in.bad()) return core::InvalidArgumentError("cannot read list file " + path);
  return out;
}

core::Result<phi::DetectorOptions> DetectorOptionsFrom(const PhiConfig& cfg) {
  phi::DetectorOptions opts;
  struct List {
    const std::string& path;
    std::vector<std::string>* into;
  };
  for (const List& l : {List{cfg.roster_file, &opts.extras.roster_names},
                        List{cfg.staff_file, &opts.extras.staff_names},
                        List{cfg.facilities_file, &opts.extras.facilities}}) {
    if (l.path.empty()) continue;
    auto entries = ReadListFile(l.path);
    if (!entries.ok()) return entries.status();
    *l.into = std::move(*entries);
  }
  for (const PhiPatternConfig& p : cfg.patterns) {
    std::optional<phi::PhiClass> cls = phi::ParseClass(p.cls);
    if (!cls) return core::InvalidArgumentError("phi pattern " + p.name + ": unknown class " + p.cls);
    opts.custom_patterns.push_back({p.name, p.regex, *cls, p.caseless});
  }
  return opts;
}

core::Result<std::shared_ptr<const phi::Detector>> MakeDetector(const PhiConfig& cfg) {
  auto opts = DetectorOptionsFrom(cfg);
  if (!opts.ok()) return opts.status();
  return phi::Detector::Create(std::move(*opts));
}

}  // namespace baagate::config
