#include "audit/report.h"

#include <boost/json.hpp>

#include <set>

#include "audit/record.h"

namespace baagate::audit {

namespace {

std::string Str(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

boost::json::object MapJson(const std::map<std::string, std::uint64_t>& m) {
  boost::json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string BarChart(const std::string& title, const std::map<std::string, std::uint64_t>& m) {
  std::string out = "<section><h2>" + Escape(title) + "</h2>";
  if (m.empty()) return out + "<p class=\"none\">none</p></section>";
  std::uint64_t max = 1;
  for (const auto& [k, v] : m) max = std::max(max, v);
  constexpr int kRow = 24, kLabel = 260, kBar = 380;
  int height = static_cast<int>(m.size()) * kRow + 4;
  out += "<svg role=\"img\" width=\"" + std::to_string(kLabel + kBar + 80) + "\" height=\"" +
         std::to_string(height) + "\" xmlns=\"http://www.w3.org/2000/svg\">";
  int y = 2;
  for (const auto& [k, v] : m) {
    int w = static_cast<int>(static_cast<double>(v) / static_cast<double>(max) * kBar);
    if (v > 0 && w < 2) w = 2;
    out += "<text x=\"" + std::to_string(kLabel - 8) + "\" y=\"" + std::to_string(y + 16) +
           "\" text-anchor=\"end\">" + Escape(k) + "</text>";
    out += "<rect x=\"" + std::to_string(kLabel) + "\" y=\"" + std::to_string(y + 3) +
           "\" width=\"" + std::to_string(w) + "\" height=\"18\" fill=\"#2f6f9f\"/>";
    out += "<text x=\"" + std::to_string(kLabel + w + 6) + "\" y=\"" + std::to_string(y + 16) +
           "\">" + std::to_string(v) + "</text>";
    y += kRow;
  }
  return out + "</svg></section>";
}

}  // namespace

core::Result<Report> BuildReport(Store& store, std::int64_t from_ms, std::int64_t to_ms,
                                 const PublicKey* key) {
  Report r;
  r.from_ms = from_ms;
  r.to_ms = to_ms;
  std::set<std::string> decisions_seen;
  std::vector<std::string> outcome_parents;
  std::map<std::string, std::map<std::string, std::string>> last_version;  // log -> field -> value
  auto s = store.ScanTime(from_ms, to_ms, [&](const StoredRecord& rec) {
    ++r.records;
    boost::system::error_code ec;
    auto v = boost::json::parse(rec.body, ec);
    if (ec || !v.is_object()) return true;  // verify reports malformed records
    const auto& o = v.get_object();
    if (rec.phase == "decision") {
      ++r.decisions;
      decisions_seen.insert(rec.event_id);
      std::string decision = Str(o, "decision");
      ++r.by_decision[decision];
      ++r.by_scope[Str(o, "baa_in_scope")];
      ++r.by_provider[Str(o, "provider").empty() ? "(none)" : Str(o, "provider")];
      if (decision == "block") {
        if (auto* reasons = o.if_contains("scope_reasons"); reasons && reasons->is_array()) {
          for (const auto& e : reasons->get_array()) {
            if (e.is_string()) ++r.block_reasons[std::string(e.get_string())];
          }
        }
      }
      if (auto* f = o.if_contains("phi_findings"); f && f->is_object()) {
        for (const auto& kv : f->get_object()) {
          if (kv.value().is_number()) {
            r.deid_by_class[std::string(kv.key())] += kv.value().to_number<std::uint64_t>();
          }
        }
      }
      for (const char* field : {"config_hash", "policy_version", "registry_version"}) {
        std::string value = Str(o, field);
        auto& last = last_version[rec.log_id][field];
        if (!last.empty() && value != last) ++r.drift[field];
        if (!value.empty()) last = value;
      }
    } else {
      ++r.outcomes;
      ++r.by_status[Str(o, "status")];
      outcome_parents.push_back(Str(o, "decision_event_id"));
    }
    return true;
  });
  if (!s.ok()) return s;
  for (const auto& p : outcome_parents) {
    if (!decisions_seen.count(p)) ++r.outcomes_without_decision_in_range;
  }
  if (key) {
    auto logs = store.LogIds();
    if (!logs.ok()) return logs.status();
    VerifyOptions vo;
    vo.key = key;
    for (const auto& id : *logs) {
      auto vr = VerifyLog(store, id, vo);
      if (!vr.ok()) {
        r.verification_error = vr.status().ToString();
        break;
      }
      r.verification.push_back(*vr);
    }
  }
  return r;
}

boost::json::object ReportJson(const Report& r) {
  boost::json::object o;
  o["format"] = "baagate.audit-report/1";
  o["from"] = FormatTimestampMs(r.from_ms);
  o["to"] = FormatTimestampMs(r.to_ms);
  o["records"] = r.records;
  o["decisions"] = r.decisions;
  o["outcomes"] = r.outcomes;
  o["by_decision"] = MapJson(r.by_decision);
  o["by_baa_in_scope"] = MapJson(r.by_scope);
  o["by_provider"] = MapJson(r.by_provider);
  o["by_status"] = MapJson(r.by_status);
  o["block_reasons"] = MapJson(r.block_reasons);
  o["deid_findings_by_class"] = MapJson(r.deid_by_class);
  o["drift_events"] = MapJson(r.drift);
  o["outcomes_without_decision_in_range"] = r.outcomes_without_decision_in_range;
  boost::json::array ver;
  for (const auto& v : r.verification) {
    boost::json::object e{{"log_id", v.log_id},          {"ok", v.ok},
                          {"records", v.records},        {"checkpoints", v.checkpoints},
                          {"signed_size", v.signed_size}, {"unsigned_tail", v.unsigned_tail}};
    if (v.first_bad_seq) e["first_bad_seq"] = *v.first_bad_seq;
    if (!v.problem.empty()) e["problem"] = v.problem;
    ver.push_back(std::move(e));
  }
  o["verification"] = std::move(ver);
  if (!r.verification_error.empty()) o["verification_error"] = r.verification_error;
  return o;
}

std::string ReportHtml(const Report& r) {
  std::string h =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>baagate audit "
      "report</title><style>body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}"
      "svg text{font-size:13px}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
      "padding:4px 8px;text-align:left}.ok{color:#1a7f37}.bad{color:#b42318;font-weight:bold}"
      ".none{color:#777}</style></head><body>";
  h += "<h1>baagate audit report</h1>";
  h += "<p>Period: " + FormatTimestampMs(r.from_ms) + " to " + FormatTimestampMs(r.to_ms) +
       " (end exclusive). Records: " + std::to_string(r.records) + " (" +
       std::to_string(r.decisions) + " decisions, " + std::to_string(r.outcomes) +
       " outcomes). The log holds no prompt or response content.</p>";
  h += "<section><h2>Integrity verification</h2>";
  if (r.verification.empty() && r.verification_error.empty()) {
    h += "<p class=\"none\">not run (no public key given)</p>";
  } else {
    h += "<table><tr><th>log</th><th>result</th><th>records</th><th>signed</th>"
         "<th>unsigned tail</th><th>first bad seq</th><th>problem</th></tr>";
    for (const auto& v : r.verification) {
      h += "<tr><td>" + Escape(v.log_id) + "</td><td class=\"" + (v.ok ? "ok\">OK" : "bad\">FAILED") +
           "</td><td>" + std::to_string(v.records) + "</td><td>" + std::to_string(v.signed_size) +
           "</td><td>" + std::to_string(v.unsigned_tail) + "</td><td>" +
           (v.first_bad_seq ? std::to_string(*v.first_bad_seq) : "") + "</td><td>" +
           Escape(v.problem) + "</td></tr>";
    }
    h += "</table>";
    if (!r.verification_error.empty()) {
      h += "<p class=\"bad\">" + Escape(r.verification_error) + "</p>";
    }
  }
  h += "</section>";
  h += BarChart("Decisions", r.by_decision);
  h += BarChart("BAA scope at decision time", r.by_scope);
  h += BarChart("Calls by provider", r.by_provider);
  h += BarChart("Outcomes by status", r.by_status);
  h += BarChart("Block reasons", r.block_reasons);
  h += BarChart("De-identification findings by class", r.deid_by_class);
  h += BarChart("Configuration drift events", r.drift);
  h += "<p>Outcome records whose decision record lies before the period: " +
       std::to_string(r.outcomes_without_decision_in_range) + "</p>";
  h += "</body></html>\n";
  return h;
}

}  // namespace baagate::audit
