// `baagate scan`, `baagate deid` and `baagate eval`: the PHI engine from the command line.
// scan/deid read plain text (one record a line) or JSONL ({"id","text"} a line) from files or
// stdin and write JSONL; large inputs are processed in blocks across all cores.
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audit/jcs.h"
#include "cli/commands.h"
#include "config/config.h"
#include "config/phi_options.h"
#include "phi/detector.h"
#include "phi/session.h"
#include "phi/utf8.h"

namespace baagate::cli {

namespace {

namespace json = boost::json;

// The deployment lists (`phi:` in a configuration file, or given one by one).
struct ListOptions {
  std::string config;
  config::PhiConfig phi;
};

struct PhiOptions {
  ListOptions lists;
  std::vector<std::string> files;
  std::string format = "auto";
  std::string mode = "placeholder";
  unsigned threads = 0;
  bool whole = false;
};

struct Record {
  json::value id;
  std::string_view view;  // the text, when it lies in the block's bytes as read
  std::string owned;      // the text, when it had to be decoded (JSONL) or repaired (UTF-8)
  bool is_owned = false;
  std::string error;  // set when the input line is refused

  std::string_view text() const { return is_owned ? std::string_view(owned) : view; }
};

// Whole lines of input and their records. Plain-text records are views into `bytes`, so a
// block of short lines costs no allocation per line (a vector's elements never move on swap).
struct Block {
  std::vector<char> bytes;
  std::vector<Record> records;
};

// Reads input in blocks of about `block_bytes` of whole lines so memory stays bounded on huge
// inputs (a single line longer than a block is read whole).
class RecordReader {
 public:
  RecordReader(std::istream& in, std::string format, bool whole)
      : in_(in), format_(std::move(format)), whole_(whole) {}

  bool NextBlock(Block& out, std::size_t block_bytes) {
    out.records.clear();
    if (whole_) return ReadWhole(out);
    while (out.records.empty()) {
      if (!ReadLines(out.bytes, block_bytes)) return false;
      // Lines are separated by line breaks; a final one ends the last line.
      std::string_view all(out.bytes.data(), out.bytes.size());
      if (all.back() == '\n') all.remove_suffix(1);
      for (std::size_t b = 0;;) {
        std::size_t nl = all.find('\n', b);
        AddLine(all.substr(b, nl == std::string_view::npos ? std::string_view::npos : nl - b),
                out.records);
        if (nl == std::string_view::npos) break;
        b = nl + 1;
      }
    }
    return true;
  }

 private:
  bool ReadWhole(Block& out) {
    if (done_) return false;
    done_ = true;
    std::stringstream ss;
    ss << in_.rdbuf();
    Record r;
    r.id = json::value(static_cast<std::int64_t>(1));
    r.owned = phi::RepairUtf8(ss.str());
    r.is_owned = true;
    out.records.push_back(std::move(r));
    return true;
  }

  // Replaces `bytes` with the next whole lines: the start of a line carried from the last call,
  // then reads of `block_bytes` until one holds a line break; everything after the last line
  // break is carried to the next call (at the end of input nothing is). False if no bytes are
  // left.
  bool ReadLines(std::vector<char>& bytes, std::size_t block_bytes) {
    bytes.assign(carry_.begin(), carry_.end());
    carry_.clear();
    while (!eof_) {
      const std::size_t at = bytes.size();
      bytes.resize(at + block_bytes);
      in_.read(bytes.data() + at, static_cast<std::streamsize>(block_bytes));
      bytes.resize(at + static_cast<std::size_t>(in_.gcount()));
      if (!in_) eof_ = true;
      // Only the bytes just read can hold a line break (the carried part has none); a line
      // longer than the block makes us read on until its end.
      std::size_t nl = std::string_view(bytes.data() + at, bytes.size() - at).rfind('\n');
      if (nl != std::string_view::npos) {
        nl += at;
        if (!eof_) {
          carry_.assign(bytes.begin() + static_cast<std::ptrdiff_t>(nl + 1), bytes.end());
          bytes.resize(nl + 1);
        }
        break;
      }
    }
    return !bytes.empty();
  }

  void AddLine(std::string_view line, std::vector<Record>& out) {
    ++line_no_;
    if (format_ == "auto") format_ = LooksJson(line) ? "jsonl" : "text";
    Record r;
    if (format_ == "jsonl") {
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
      boost::system::error_code ec;
      json::value v = json::parse(line, ec);
      const json::object* o = ec ? nullptr : v.if_object();
      const json::value* text = o != nullptr ? o->if_contains("text") : nullptr;
      if (text == nullptr || !text->is_string()) {
        r.id = json::value(static_cast<std::int64_t>(line_no_));
        r.error = "line is not a JSON object with a string \"text\"";
      } else {
        const json::value* id = o->if_contains("id");
        r.id = id != nullptr ? *id : json::value(static_cast<std::int64_t>(line_no_));
        r.owned = std::string(text->get_string());
        r.is_owned = true;
      }
    } else {
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      r.id = json::value(static_cast<std::int64_t>(line_no_));
      if (phi::IsValidUtf8(line)) {
        r.view = line;
      } else {
        r.owned = phi::RepairUtf8(line);
        r.is_owned = true;
      }
    }
    out.push_back(std::move(r));
  }

  static bool LooksJson(std::string_view line) {
    std::size_t p = line.find_first_not_of(" \t");
    return p != std::string_view::npos && line[p] == '{';
  }
  std::istream& in_;
  std::string format_;
  bool whole_;
  bool done_ = false;
  bool eof_ = false;
  std::vector<char> carry_;  // the start of a line whose end is not read yet
  std::size_t line_no_ = 0;
};

// Appends the record's id as JSON: line numbers directly, ids from JSONL via the serializer.
void AppendId(const Record& r, std::string& out) {
  if (r.id.is_int64()) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), r.id.get_int64());
    (void)ec;
    out.append(buf, end);
  } else {
    out += json::serialize(r.id);
  }
}

void AppendErrorLine(const Record& r, std::string_view message, std::string& out) {
  out += "{\"id\":";
  AppendId(r, out);
  out += ",\"error\":";
  audit::AppendJcsString(message, out);
  out += '}';
}

// Appends one output line for the record (without the line break) to `out`.
using Processor = std::function<void(const Record&, std::string& out)>;

// Runs `proc` over every record of every input, in blocks, on `threads` threads; writes the
// outputs in input order. Returns the number of refused records.
int RunParallel(const PhiOptions& opts, const Processor& proc) {
  unsigned threads = opts.threads != 0 ? opts.threads : std::max(1U, std::thread::hardware_concurrency());
  std::vector<std::string> files = opts.files;
  if (files.empty()) files.push_back("-");
  int refused = 0;
  std::ios::sync_with_stdio(false);
  for (const std::string& f : files) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (f != "-") {
      file.open(f, std::ios::binary);
      if (!file) {
        std::cerr << "cannot open " << f << "\n";
        return -1;
      }
      in = &file;
    }
    RecordReader reader(*in, opts.format, opts.whole);
    // With several threads the next block is read (and its UTF-8 repaired) while the workers
    // process this one, so reading is not a serial phase; blocks of 8 MiB keep memory bounded.
    constexpr std::size_t kBlockBytes = std::size_t{8} << 20;
    // Records are taken in batches: a few long records do not stall one thread, and each batch
    // writes its output lines into one buffer.
    constexpr std::size_t kBatch = 64;
    Block block, ahead;
    std::vector<std::string> outs;
    // A line too long for the memory available ends the run with a clear error, not a crash.
    bool reader_out_of_memory = false;
    auto read = [&](Block& b) {
      try {
        return reader.NextBlock(b, kBlockBytes);
      } catch (const std::bad_alloc&) {
        reader_out_of_memory = true;
        return false;
      }
    };
    bool have = read(block);
    while (have) {
      bool have_ahead = false;
      std::thread reading;
      if (threads > 1) {
        reading = std::thread([&] { have_ahead = read(ahead); });
      }
      const std::vector<Record>& recs = block.records;
      const std::size_t n = recs.size();
      const std::size_t batches = (n + kBatch - 1) / kBatch;
      if (outs.size() < batches) outs.resize(batches);
      unsigned used = static_cast<unsigned>(std::min<std::size_t>(threads, batches));
      std::vector<std::thread> pool;
      std::atomic<std::size_t> next{0};
      std::atomic<int> out_of_memory{0};
      auto work = [&]() {
        for (;;) {
          std::size_t k = next.fetch_add(1);
          if (k >= batches) return;
          std::string& out = outs[k];
          out.clear();
          for (std::size_t i = k * kBatch; i < std::min(n, (k + 1) * kBatch); ++i) {
            const std::size_t mark = out.size();
            try {
              proc(recs[i], out);
            } catch (const std::bad_alloc&) {
              // A record too large for the memory available is refused, not a crash.
              out.resize(mark);
              AppendErrorLine(recs[i], "not enough memory to process this record", out);
              ++out_of_memory;
            }
            out += '\n';
          }
        }
      };
      for (unsigned t = 1; t < used; ++t) pool.emplace_back(work);
      work();
      for (auto& th : pool) th.join();
      for (const Record& r : recs) refused += r.error.empty() ? 0 : 1;
      refused += out_of_memory.load();
      for (std::size_t k = 0; k < batches; ++k) {
        std::cout.write(outs[k].data(), static_cast<std::streamsize>(outs[k].size()));
      }
      if (reading.joinable()) {
        reading.join();
      } else {
        have_ahead = read(ahead);
      }
      std::swap(block, ahead);
      have = have_ahead;
    }
    if (reader_out_of_memory) {
      std::cout.flush();
      std::cerr << "baagate: a line of " << f << " is too long for the memory available\n";
      return -1;
    }
  }
  std::cout.flush();
  return refused;
}

core::Result<std::shared_ptr<const phi::Detector>> MakeDetector(const ListOptions& lists) {
  config::PhiConfig phi = lists.phi;
  if (!lists.config.empty()) {
    auto cfg = config::LoadConfigFile(lists.config);
    if (!cfg.ok()) return cfg.status();
    // Flags given on the command line win over the file's lists.
    if (phi.roster_file.empty()) phi.roster_file = cfg->phi.roster_file;
    if (phi.staff_file.empty()) phi.staff_file = cfg->phi.staff_file;
    if (phi.facilities_file.empty()) phi.facilities_file = cfg->phi.facilities_file;
    phi.patterns = cfg->phi.patterns;
  }
  return config::MakeDetector(phi);
}

void AddListOptions(CLI::App* sub, ListOptions& o) {
  sub->add_option("--config", o.config,
                  "Use the deployment lists and patterns of this configuration's `phi:` section");
  sub->add_option("--roster", o.phi.roster_file,
                  "Patient roster: one name a line; always PHI wherever it appears");
  sub->add_option("--staff", o.phi.staff_file, "Staff names: one a line; evidence of a name");
  sub->add_option("--facilities", o.phi.facilities_file,
                  "Local facility names: one a line, matched exactly");
}

void AddCommonOptions(CLI::App* sub, PhiOptions& o) {
  AddListOptions(sub, o.lists);
  sub->add_option("files", o.files, "Input files (default: stdin; '-' is stdin)");
  sub->add_option("--format", o.format,
                  "Input format: text (one record a line), jsonl ({\"id\",\"text\"} a line) or "
                  "auto (jsonl if the first line starts with '{')")
      ->check(CLI::IsMember({"auto", "text", "jsonl"}));
  sub->add_option("--threads", o.threads, "Worker threads (default: all cores)");
  sub->add_flag("--whole", o.whole, "Plain text: treat the whole input as one record");
}

int RunScan(const PhiOptions& opts) {
  auto det = MakeDetector(opts.lists);
  if (!det.ok()) {
    std::cerr << det.status().ToString() << "\n";
    return 1;
  }
  const phi::Detector& d = **det;
  int refused = RunParallel(opts, [&](const Record& r, std::string& out) {
    if (!r.error.empty()) return AppendErrorLine(r, r.error, out);
    auto found = d.Scan(r.text());
    if (!found.ok()) return AppendErrorLine(r, "detector failed", out);
    // Written by hand so confidences print as 0.92 rather than Boost.JSON's 9.2E-1; type and
    // rule are fixed ASCII identifiers.
    out += "{\"id\":";
    AppendId(r, out);
    out += ",\"findings\":[";
    char buf[256];
    bool first = true;
    for (const phi::Finding& f : *found) {
      std::snprintf(buf, sizeof(buf),
                    "%s{\"start\":%zu,\"end\":%zu,\"byte_start\":%zu,\"byte_end\":%zu,"
                    "\"type\":\"%.*s\",\"confidence\":%.2f,\"rule\":",
                    first ? "" : ",", f.cp_begin, f.cp_end, f.begin, f.end,
                    static_cast<int>(phi::ClassName(f.cls).size()), phi::ClassName(f.cls).data(),
                    static_cast<double>(f.confidence));
      out += buf;
      audit::AppendJcsString(f.rule, out);
      out += '}';
      first = false;
    }
    out += "]}";
  });
  return refused == 0 ? 0 : 1;
}

int RunDeid(const PhiOptions& opts) {
  auto det = MakeDetector(opts.lists);
  if (!det.ok()) {
    std::cerr << det.status().ToString() << "\n";
    return 1;
  }
  phi::TransformMode mode = opts.mode == "redact"       ? phi::TransformMode::kRedact
                            : opts.mode == "generalize" ? phi::TransformMode::kGeneralize
                                                        : phi::TransformMode::kPlaceholder;
  int refused = RunParallel(opts, [&](const Record& r, std::string& out) {
    if (!r.error.empty()) return AppendErrorLine(r, r.error, out);
    phi::Session session(*det, mode);  // one vault per record, wiped when it ends
    auto text = session.Deidentify(r.text());
    if (!text.ok()) return AppendErrorLine(r, "detector failed", out);
    // Written directly (no json::object per record). JSON string escaping is the same as the
    // audit log's canonical form (RFC 8785: what JSON.stringify writes), with a fast path for
    // text that needs none.
    out += "{\"id\":";
    AppendId(r, out);
    out += ",\"text\":";
    audit::AppendJcsString(*text, out);
    out += '}';
  });
  return refused == 0 ? 0 : 1;
}

// ---- eval ----------------------------------------------------------------------------------

struct GoldSpan {
  std::size_t b, e;  // bytes
  std::string type;
  bool ignored;  // a label that is not Safe Harbor PHI (presidio ORGANIZATION, TITLE, ...)
};

struct EvalRecord {
  std::string text;
  std::vector<GoldSpan> spans;
};

// Code-point offset -> byte offset table for `text`.
std::vector<std::size_t> CpToByte(const std::string& text) {
  std::vector<std::size_t> m;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) m.push_back(i);
  }
  m.push_back(text.size());
  return m;
}

std::string MapPresidio(const std::string& label, const std::string& value) {
  if (label == "PERSON") return "NAME";
  if (label == "STREET_ADDRESS" || label == "GPE" || label == "ZIP_CODE") return "GEOGRAPHIC_LOCATION";
  if (label == "PHONE_NUMBER") return "PHONE_NUMBER";
  if (label == "EMAIL_ADDRESS") return "EMAIL_ADDRESS";
  if (label == "US_SSN") return "SOCIAL_SECURITY_NUMBER";
  if (label == "IP_ADDRESS") return "IP_ADDRESS";
  if (label == "US_DRIVER_LICENSE") return "CERTIFICATE_LICENSE_NUMBER";
  if (label == "DOMAIN_NAME") return "URL";
  if (label == "DATE_TIME") {
    bool year_only = value.size() == 4 && std::all_of(value.begin(), value.end(), ::isdigit);
    return year_only ? "" : "DATE";
  }
  if (label == "AGE") {
    int age = std::atoi(value.c_str());
    return age >= 90 ? "AGE" : "";
  }
  return "";  // ORGANIZATION, TITLE, NRP, CREDIT_CARD, IBAN_CODE: not Safe Harbor classes
}

core::Result<std::vector<EvalRecord>> LoadCorpus(const std::string& path, bool* presidio) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::NotFoundError("cannot open corpus " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  std::vector<EvalRecord> out;
  std::size_t p = all.find_first_not_of(" \t\r\n");
  *presidio = p != std::string::npos && all[p] == '[';
  auto add = [&](const std::string& text, std::vector<GoldSpan> spans_cp) {
    auto m = CpToByte(text);
    EvalRecord r;
    r.text = text;
    for (GoldSpan g : spans_cp) {
      if (g.e >= m.size() || g.b > g.e) continue;
      g.b = m[g.b];
      g.e = m[g.e];
      r.spans.push_back(g);
    }
    out.push_back(std::move(r));
  };
  boost::system::error_code ec;
  if (*presidio) {
    json::value v = json::parse(all, ec);
    if (ec || !v.is_array()) return core::InvalidArgumentError("corpus is not a JSON array");
    for (const json::value& item : v.get_array()) {
      const json::object& o = item.as_object();
      std::string text(o.at("full_text").as_string());
      std::vector<GoldSpan> spans;
      for (const json::value& s : o.at("spans").as_array()) {
        const json::object& so = s.as_object();
        std::string label(so.at("entity_type").as_string());
        std::string value(so.at("entity_value").as_string());
        std::string type = MapPresidio(label, value);
        spans.push_back({static_cast<std::size_t>(so.at("start_position").to_number<std::int64_t>()),
                         static_cast<std::size_t>(so.at("end_position").to_number<std::int64_t>()),
                         type.empty() ? label : type, type.empty()});
      }
      add(text, std::move(spans));
    }
    return out;
  }
  std::istringstream lines(all);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) return core::InvalidArgumentError("corpus line is not JSON");
    const json::object& o = v.get_object();
    std::string text(o.at("text").as_string());
    std::vector<GoldSpan> spans;
    for (const json::value& s : o.at("spans").as_array()) {
      const json::object& so = s.as_object();
      spans.push_back({static_cast<std::size_t>(so.at("start").to_number<std::int64_t>()),
                       static_cast<std::size_t>(so.at("end").to_number<std::int64_t>()),
                       std::string(so.at("type").as_string()), false});
    }
    add(text, std::move(spans));
  }
  return out;
}

bool IsContentByte(unsigned char c) { return std::isalnum(c) != 0 || c >= 0x80; }

int RunEval(const std::string& corpus, bool show_misses, const ListOptions& lists) {
  bool presidio = false;
  auto recs = LoadCorpus(corpus, &presidio);
  if (!recs.ok()) {
    std::cerr << recs.status().ToString() << "\n";
    return 1;
  }
  auto det = MakeDetector(lists);
  if (!det.ok()) {
    std::cerr << det.status().ToString() << "\n";
    return 1;
  }
  struct Row {
    std::size_t gold = 0, caught = 0, found = 0, found_true = 0;
  };
  std::map<std::string, Row> rows;
  std::size_t found = 0, found_true = 0, found_ignored = 0, negatives = 0, negatives_flagged = 0;
  std::size_t with_phi = 0;
  for (const EvalRecord& r : *recs) {
    auto fs = (*det)->Scan(r.text);
    if (!fs.ok()) {
      std::cerr << "detector failed\n";
      return 1;
    }
    std::vector<char> covered(r.text.size(), 0);
    for (const phi::Finding& f : *fs) std::fill(covered.begin() + f.begin, covered.begin() + f.end, 1);
    bool any_gold = false;
    for (const GoldSpan& g : r.spans) {
      if (g.ignored) continue;
      any_gold = true;
      bool leak = false;
      for (std::size_t i = g.b; i < g.e; ++i) {
        if (IsContentByte(static_cast<unsigned char>(r.text[i])) && !covered[i]) leak = true;
      }
      Row& row = rows[g.type];
      ++row.gold;
      if (!leak) ++row.caught;
      if (leak && show_misses) {
        std::cerr << "MISS " << g.type << ": " << r.text.substr(g.b, g.e - g.b) << "  | "
                  << r.text << "\n";
      }
    }
    if (any_gold) ++with_phi;
    if (r.spans.empty()) {
      ++negatives;
      if (!fs->empty()) ++negatives_flagged;
    }
    for (const phi::Finding& f : *fs) {
      bool hit = false, ign = false;
      for (const GoldSpan& g : r.spans) {
        if (f.begin < g.e && g.b < f.end) (g.ignored ? ign : hit) = true;
      }
      if (!hit && ign) {
        ++found_ignored;  // overlaps only a non-PHI label: not scored
        continue;
      }
      ++found;
      Row& row = rows[std::string(phi::ClassName(f.cls))];
      ++row.found;
      if (hit) {
        ++found_true;
        ++row.found_true;
      }
      if (!hit && show_misses) {
        std::cerr << "FP " << phi::ClassName(f.cls) << " (" << f.rule
                  << "): " << r.text.substr(f.begin, f.end - f.begin) << "  | " << r.text << "\n";
      }
    }
  }
  auto ratio = [](std::size_t a, std::size_t b) -> std::string {
    if (b == 0) return "   -  ";
    std::ostringstream o;
    o << std::fixed << std::setprecision(3) << static_cast<double>(a) / static_cast<double>(b);
    return o.str();
  };
  std::cout << "corpus: " << corpus << " (" << recs->size() << " records, " << with_phi
            << " with PHI, " << negatives << " without)\n";
  std::cout << std::left << std::setw(32) << "class" << std::right << std::setw(6) << "gold"
            << std::setw(8) << "caught" << std::setw(9) << "recall" << std::setw(8) << "found"
            << std::setw(11) << "precision" << "\n";
  std::size_t gold = 0, caught = 0;
  for (const auto& [name, row] : rows) {
    gold += row.gold;
    caught += row.caught;
    std::cout << std::left << std::setw(32) << name << std::right << std::setw(6) << row.gold
              << std::setw(8) << row.caught << std::setw(9) << ratio(row.caught, row.gold)
              << std::setw(8) << row.found << std::setw(11) << ratio(row.found_true, row.found)
              << "\n";
  }
  std::cout << std::left << std::setw(32) << "overall" << std::right << std::setw(6) << gold
            << std::setw(8) << caught << std::setw(9) << ratio(caught, gold) << std::setw(8)
            << found << std::setw(11) << ratio(found_true, found) << "\n";
  std::cout << "leak-free recall " << ratio(caught, gold) << ", precision "
            << ratio(found_true, found) << ", records without PHI with any finding "
            << negatives_flagged << "/" << negatives << " = " << ratio(negatives_flagged, negatives)
            << "\n";
  if (presidio) {
    std::cout << "(labels that are not Safe Harbor PHI are not scored; " << found_ignored
              << " findings overlapped only such labels)\n";
  }
  return 0;
}

}  // namespace

Command RegisterPhi(CLI::App& app) {
  auto scan_opts = std::make_shared<PhiOptions>();
  auto deid_opts = std::make_shared<PhiOptions>();
  auto corpus = std::make_shared<std::string>();
  auto misses = std::make_shared<bool>(false);
  auto eval_lists = std::make_shared<ListOptions>();
  CLI::App* scan = app.add_subcommand(
      "scan",
      "Find PHI (HIPAA Safe Harbor identifiers). Reads plain text (one record a line) or JSONL "
      "{\"id\",\"text\"} from files or stdin; writes JSONL {\"id\",\"findings\":[{\"start\","
      "\"end\" (code points),\"byte_start\",\"byte_end\",\"type\",\"confidence\",\"rule\"}]}.");
  AddCommonOptions(scan, *scan_opts);
  CLI::App* deid = app.add_subcommand(
      "deid",
      "De-identify text: reads like `scan`, writes JSONL {\"id\",\"text\"}. Modes: placeholder "
      "([NAME_1], consistent within a record), redact ([NAME]), generalize (date -> year, "
      "age > 89 -> \"90 or older\", ZIP -> ZIP3 or 000).");
  AddCommonOptions(deid, *deid_opts);
  deid->add_option("--mode", deid_opts->mode, "placeholder | redact | generalize")
      ->check(CLI::IsMember({"placeholder", "redact", "generalize"}));
  CLI::App* eval = app.add_subcommand(
      "eval",
      "Score the detector on a gold corpus (asq-phi JSONL or presidio-research JSON): per "
      "class leak-free recall and precision, and records without PHI that got any finding.");
  eval->add_option("--corpus", *corpus, "Gold corpus file")->required();
  eval->add_flag("--show-misses", *misses, "Print missed values and false positives to stderr");
  AddListOptions(eval, *eval_lists);
  return [=]() -> int {
    if (scan->parsed()) return RunScan(*scan_opts);
    if (deid->parsed()) return RunDeid(*deid_opts);
    if (eval->parsed()) return RunEval(*corpus, *misses, *eval_lists);
    return 2;
  };
}

}  // namespace baagate::cli
