// Builds the PHI detector's options from the `phi:` configuration section: reads the roster,
// staff and facility files and turns the patterns into custom rules. Errors name the file or
// the pattern, never a line of a list (the lists hold PHI).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/status.h"
#include "phi/detector.h"

namespace baagate::config {

// Reads a list file: one entry per line, blank lines and lines starting with '#' skipped,
// surrounding blanks trimmed, inner runs of blanks made one space, a UTF-8 BOM dropped. Fails
// if the file cannot be read or holds invalid UTF-8.
core::Result<std::vector<std::string>> ReadListFile(const std::string& path);

core::Result<phi::DetectorOptions> DetectorOptionsFrom(const PhiConfig& cfg);

// The detector with the lists read and the patterns compiled: what `serve`, `config check` and
// the PHI subcommands use.
core::Result<std::shared_ptr<const phi::Detector>> MakeDetector(const PhiConfig& cfg);

}  // namespace baagate::config
