// `baagate audit verify|query|prove|report|export`: examine the audit log (COMPLIANCE.md §3.1,
// §5.5). Every subcommand reads a store given as --store sqlite:PATH or --store postgres:CONNINFO.
#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "audit/checkpoint.h"
#include "audit/jcs.h"
#include "audit/proof.h"
#include "audit/record.h"
#include "audit/report.h"
#include "audit/store.h"
#include "audit/verify.h"
#include "cli/commands.h"

namespace baagate::cli {

namespace {

constexpr const char* kDefaultStore = "sqlite:baagate-data/audit.db";
constexpr const char* kDefaultPubkey = "baagate-data/audit.key.pub";

struct AuditArgs {
  std::string store = kDefaultStore;
  std::string pubkey = kDefaultPubkey;
  std::string log_id;
  std::string mirror_dir;
  std::string from, to;
  std::string tenant, app, provider, decision, scope, status, phase;
  std::string format;
  std::string event;
  std::string check;
  std::string out;
  std::size_t limit = 0;
  bool json = false;
};

void AddStore(CLI::App* cmd, AuditArgs& a) {
  cmd->add_option("--store", a.store, "sqlite:PATH or postgres:CONNINFO")->capture_default_str();
}
void AddKey(CLI::App* cmd, AuditArgs& a) {
  cmd->add_option("--pubkey", a.pubkey,
                  "the log's pinned public key (the .pub file written next to the signing key)")
      ->capture_default_str();
}
void AddRange(CLI::App* cmd, AuditArgs& a) {
  cmd->add_option("--from", a.from, "start time, RFC 3339 or YYYY-MM-DD (inclusive)");
  cmd->add_option("--to", a.to, "end time, RFC 3339 or YYYY-MM-DD (exclusive)");
}

bool Range(const AuditArgs& a, std::int64_t* from, std::int64_t* to) {
  *from = 0;
  *to = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count() +
        1000;
  if (!a.from.empty()) {
    auto t = audit::ParseTimestampMs(a.from);
    if (!t) {
      std::cerr << "audit: --from: not a time: " << a.from << "\n";
      return false;
    }
    *from = *t;
  }
  if (!a.to.empty()) {
    auto t = audit::ParseTimestampMs(a.to);
    if (!t) {
      std::cerr << "audit: --to: not a time: " << a.to << "\n";
      return false;
    }
    *to = *t;
  }
  return true;
}

std::unique_ptr<audit::Store> Open(const AuditArgs& a) {
  auto s = audit::OpenStore(a.store);
  if (!s.ok()) {
    std::cerr << s.status().message() << "\n";
    return nullptr;
  }
  return std::move(s).value();
}

std::optional<audit::PublicKey> LoadKey(const AuditArgs& a) {
  auto k = audit::PublicKey::Load(a.pubkey);
  if (!k.ok()) {
    std::cerr << k.status().message() << "\n";
    return std::nullopt;
  }
  return *k;
}

int Verify(const AuditArgs& a) {
  auto store = Open(a);
  auto key = LoadKey(a);
  if (!store || !key) return 2;
  std::vector<std::string> logs;
  if (!a.log_id.empty()) {
    logs.push_back(a.log_id);
  } else {
    auto ids = store->LogIds();
    if (!ids.ok()) {
      std::cerr << ids.status().message() << "\n";
      return 2;
    }
    logs = *ids;
  }
  if (logs.empty()) std::cerr << "audit verify: the store holds no logs\n";
  audit::VerifyOptions vo;
  vo.key = &*key;
  vo.mirror_dir = a.mirror_dir;
  // Reader threads each open their own connection; the records are hashed in parallel.
  vo.open_reader = [&a] { return audit::OpenStore(a.store, audit::StoreUse::kScan); };
  int rc = 0;
  for (const auto& id : logs) {
    auto r = audit::VerifyLog(*store, id, vo);
    if (!r.ok()) {
      std::cerr << "log " << id << ": cannot read: " << r.status().message() << "\n";
      rc = 2;
      continue;
    }
    if (a.json) {
      boost::json::object o{{"log_id", id},          {"ok", r->ok},
                            {"records", r->records}, {"checkpoints", r->checkpoints},
                            {"signed_size", r->signed_size},
                            {"unsigned_tail", r->unsigned_tail}};
      if (r->first_bad_seq) o["first_bad_seq"] = *r->first_bad_seq;
      if (!r->problem.empty()) o["problem"] = r->problem;
      std::cout << boost::json::serialize(o) << "\n";
    } else if (r->ok) {
      std::cout << "log " << id << ": OK: " << r->records << " records, " << r->checkpoints
                << " signed checkpoints, signed through " << r->signed_size
                << ", unsigned tail " << r->unsigned_tail << "\n";
    } else {
      std::cout << "log " << id << ": FAILED";
      if (r->first_bad_seq) std::cout << " at seq " << *r->first_bad_seq;
      std::cout << ": " << r->problem << "\n";
    }
    if (!r->ok) rc = 1;
  }
  return rc;
}

bool Matches(const boost::json::object& o, std::string_view key, const std::string& want) {
  if (want.empty()) return true;
  auto* v = o.if_contains(key);
  if (!v) return false;
  if (v->is_string()) return v->get_string() == want;
  return boost::json::serialize(*v) == want;
}

std::string Field(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return "-";
  if (v->is_string()) return std::string(v->get_string());
  return boost::json::serialize(*v);
}

// Calls fn(record, body object) for each record of the range that matches the filters.
template <typename F>
int ForEachMatching(const AuditArgs& a, F&& fn) {
  auto store = Open(a);
  if (!store) return 2;
  std::int64_t from = 0, to = 0;
  if (!Range(a, &from, &to)) return 2;
  std::size_t n = 0;
  auto s = store->ScanTime(from, to, [&](const audit::StoredRecord& rec) {
    if (!a.log_id.empty() && rec.log_id != a.log_id) return true;
    boost::system::error_code ec;
    auto v = boost::json::parse(rec.body, ec);
    if (ec || !v.is_object()) return true;
    const auto& o = v.get_object();
    if (!Matches(o, "tenant_id", a.tenant) || !Matches(o, "app_id", a.app) ||
        !Matches(o, "provider", a.provider) || !Matches(o, "decision", a.decision) ||
        !Matches(o, "baa_in_scope", a.scope) || !Matches(o, "status", a.status) ||
        !Matches(o, "phase", a.phase)) {
      return true;
    }
    fn(rec, o);
    return a.limit == 0 || ++n < a.limit;
  });
  if (!s.ok()) {
    std::cerr << s.message() << "\n";
    return 2;
  }
  return 0;
}

// The exported form: the canonical record with its record_hash added (still JCS).
std::string WithHash(const audit::StoredRecord& rec, const boost::json::object& o) {
  boost::json::object copy = o;
  copy["record_hash"] = core::HexEncode(rec.record_hash);
  auto s = audit::CanonicalJson(copy);
  return s.ok() ? *s : rec.body;
}

int Query(const AuditArgs& a) {
  bool jsonl = a.format == "jsonl";
  if (!jsonl) {
    std::cout << std::left << std::setw(25) << "ts" << std::setw(9) << "phase" << std::setw(14)
              << "tenant" << std::setw(12) << "app" << std::setw(10) << "provider"
              << std::setw(19) << "decision/status" << std::setw(16) << "baa_in_scope"
              << "event_id\n";
  }
  return ForEachMatching(a, [&](const audit::StoredRecord& rec, const boost::json::object& o) {
    if (jsonl) {
      std::cout << WithHash(rec, o) << "\n";
      return;
    }
    bool decision = rec.phase == "decision";
    std::cout << std::left << std::setw(25) << Field(o, "ts") << std::setw(9) << rec.phase
              << std::setw(14) << Field(o, "tenant_id") << std::setw(12) << Field(o, "app_id")
              << std::setw(10) << Field(o, "provider") << std::setw(19)
              << Field(o, decision ? "decision" : "status") << std::setw(16)
              << (decision ? Field(o, "baa_in_scope") : "") << rec.event_id << "\n";
  });
}

int Export(const AuditArgs& a) {
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!a.out.empty()) {
    file.open(a.out, std::ios::trunc);
    if (!file) {
      std::cerr << "audit export: cannot write " << a.out << "\n";
      return 2;
    }
    out = &file;
  }
  return ForEachMatching(a, [&](const audit::StoredRecord& rec, const boost::json::object& o) {
    *out << WithHash(rec, o) << "\n";
  });
}

int Prove(const AuditArgs& a) {
  if (!a.check.empty()) {
    auto key = LoadKey(a);
    if (!key) return 2;
    std::ifstream in(a.check);
    std::stringstream ss;
    ss << in.rdbuf();
    boost::system::error_code ec;
    auto v = boost::json::parse(ss.str(), ec);
    if (!in || ec || !v.is_object()) {
      std::cerr << "audit prove --check: cannot read a proof from " << a.check << "\n";
      return 2;
    }
    auto s = audit::CheckProof(v.get_object(), &*key);
    if (!s.ok()) {
      std::cout << "proof INVALID: " << s.message() << "\n";
      return 1;
    }
    std::cout << "proof OK: event " << Field(v.get_object(), "event_id") << " is record "
              << Field(v.get_object(), "seq") << " of log " << Field(v.get_object(), "log_id")
              << " under the checkpoint signed by " << key->name() << "\n";
    return 0;
  }
  if (a.event.empty()) {
    std::cerr << "audit prove: --event ID (or --check FILE) is required\n";
    return 2;
  }
  auto store = Open(a);
  if (!store) return 2;
  auto proof = audit::BuildProof(*store, a.event);
  if (!proof.ok()) {
    std::cerr << proof.status().message() << "\n";
    return 1;
  }
  std::cout << boost::json::serialize(*proof) << "\n";
  return 0;
}

int ReportCmd(const AuditArgs& a) {
  auto store = Open(a);
  if (!store) return 2;
  std::int64_t from = 0, to = 0;
  if (!Range(a, &from, &to)) return 2;
  auto key = LoadKey(a);
  if (!key) std::cerr << "audit report: verification skipped (no public key)\n";
  auto r = audit::BuildReport(*store, from, to, key ? &*key : nullptr);
  if (!r.ok()) {
    std::cerr << r.status().message() << "\n";
    return 2;
  }
  std::string text = a.format == "html" ? audit::ReportHtml(*r)
                                        : boost::json::serialize(audit::ReportJson(*r)) + "\n";
  if (a.out.empty()) {
    std::cout << text;
  } else {
    std::ofstream out(a.out, std::ios::trunc);
    out << text;
    if (!out) {
      std::cerr << "audit report: cannot write " << a.out << "\n";
      return 2;
    }
  }
  bool verified = !r->verification.empty() && r->verification_error.empty();
  for (const auto& v : r->verification) verified = verified && v.ok;
  return verified || !key ? 0 : 1;
}

}  // namespace

Command RegisterAudit(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "audit", "Examine the tamper-evident audit log: verify, query, prove, report, export.");
  sub->require_subcommand(1);
  auto a = std::make_shared<AuditArgs>();

  CLI::App* verify = sub->add_subcommand(
      "verify", "Check every chain: seq contiguity, prev_hash links, record hashes, Merkle roots "
                "at each signed checkpoint, signatures, consistency between checkpoints and the "
                "unsigned tail. Prints the first bad position. Exit 1 if any check fails.");
  AddStore(verify, *a);
  AddKey(verify, *a);
  verify->add_option("--log-id", a->log_id, "only this chain (default: all in the store)");
  verify->add_option("--mirror-dir", a->mirror_dir,
                     "also check the checkpoints written to this write-once copy");
  verify->add_flag("--json", a->json, "one JSON object per chain");

  CLI::App* query = sub->add_subcommand("query", "List records by time, tenant, app, ...");
  AddStore(query, *a);
  AddRange(query, *a);
  query->add_option("--log-id", a->log_id, "only this chain");
  query->add_option("--tenant", a->tenant, "tenant_id");
  query->add_option("--app", a->app, "app_id");
  query->add_option("--provider", a->provider, "provider");
  query->add_option("--decision", a->decision, "allow | allow_deidentified | block");
  query->add_option("--baa-in-scope", a->scope, "covered | conditional_met | not_covered | unknown");
  query->add_option("--status", a->status,
                    "success | error | content_filter_triggered | client_disconnected | "
                    "upstream_timeout | blocked");
  query->add_option("--phase", a->phase, "decision | outcome");
  query->add_option("--format", a->format, "table | jsonl")->capture_default_str();
  query->add_option("--limit", a->limit, "stop after this many records (0: all)");

  CLI::App* prove = sub->add_subcommand(
      "prove", "Print a self-contained inclusion proof of one record against the latest signed "
               "checkpoint, or check one with --check.");
  AddStore(prove, *a);
  AddKey(prove, *a);
  prove->add_option("--event", a->event, "event_id of the record");
  prove->add_option("--check", a->check, "verify a proof file instead (needs --pubkey)");

  CLI::App* report = sub->add_subcommand(
      "report", "A compliance report for a period: counts by decision, scope, provider and "
                "status, block reasons, de-identification findings, drift, verification.");
  AddStore(report, *a);
  AddKey(report, *a);
  AddRange(report, *a);
  report->add_option("--format", a->format, "html | json")->capture_default_str();
  report->add_option("--out", a->out, "write to this file instead of standard output");

  CLI::App* exp = sub->add_subcommand("export", "Write records as JSON Lines (for a SIEM).");
  AddStore(exp, *a);
  AddRange(exp, *a);
  exp->add_option("--log-id", a->log_id, "only this chain");
  exp->add_option("--out", a->out, "write to this file instead of standard output");

  return [a, verify, query, prove, report, exp]() -> int {
    if (verify->parsed()) return Verify(*a);
    if (query->parsed()) return Query(*a);
    if (prove->parsed()) return Prove(*a);
    if (report->parsed()) {
      if (a->format.empty()) a->format = "html";
      if (a->format != "html" && a->format != "json") {
        std::cerr << "audit report: --format must be html or json\n";
        return 2;
      }
      return ReportCmd(*a);
    }
    if (exp->parsed()) return Export(*a);
    return 2;
  };
}

}  // namespace baagate::cli
