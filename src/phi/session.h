// Per-request de-identification and re-identification.
//
// A Session belongs to one request (or one client session): it owns the vault that maps
// placeholders such as "[NAME_1]" back to the original text. The vault lives in memory only,
// is never logged or sent upstream, and is wiped (zeroed) when the Session is destroyed.
// Placeholders are numbered in order of first appearance within the request: they carry no
// information derived from the identifier (164.514(c)). Not thread-safe; the Detector it
// borrows is shared and must outlive it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "phi/detector.h"
#include "phi/types.h"

namespace baagate::phi {

enum class TransformMode {
  kPlaceholder,  // "[NAME_1]": consistent within the request, reversible through the vault
  kRedact,       // "[NAME]": irreversible
  kGeneralize,   // Safe Harbor generalisation: date -> year, age > 89 -> "90 or older",
                 // ZIP -> ZIP3 (or 000 for restricted prefixes); other classes -> "[TAG]"
};

// Which vendor body DeidentifyJsonBody reads. Every string a vendor would receive is
// de-identified; only enum-like protocol fields (model, role, type, ids) are left alone.
enum class Dialect { kOpenAiChat, kOpenAiEmbeddings, kOpenAiResponses, kAnthropicMessages };

// True if `zip3` (three digits) is one of the 17 HHS restricted prefixes (Census 2000),
// which Safe Harbor requires to become "000".
bool IsRestrictedZip3(std::string_view zip3);

class StreamReidentifier;

class Session {
 public:
  Session(std::shared_ptr<const Detector> detector, TransformMode mode);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // De-identifies plain text. Fails only if the detector fails (fail closed: send nothing).
  core::Result<std::string> Deidentify(std::string_view text);
  // De-identifies every vendor-visible string of a JSON request body and keeps its structure.
  // INVALID_ARGUMENT if the body is not JSON.
  core::Result<std::string> DeidentifyJsonBody(Dialect dialect, std::string_view body);

  // Restores the placeholders this session issued. Unknown or mangled placeholders ("[NAME_9]"
  // never issued, "[NAME 1]") are left exactly as they are: never guessed.
  std::string Reidentify(std::string_view text) const;
  // Re-identifies every string of a JSON response body; INVALID_ARGUMENT if not JSON.
  core::Result<std::string> ReidentifyJsonBody(std::string_view body) const;

  // Per-class counts of everything de-identified so far (for the audit record; no text).
  const FindingCounts& finding_counts() const { return counts_; }
  // Length in bytes of the longest placeholder issued (what a stream may hold back).
  std::size_t max_placeholder_length() const { return max_placeholder_len_; }
  std::size_t vault_size() const { return entries_.size(); }

 private:
  // Records placeholder-shaped text found in the input ("[NAME_1]" typed by the user) so the
  // session never issues it: a re-identified response then cannot turn the user's literal
  // text into someone's name.
  void Reserve(std::string_view text);
  void AppendReplacement(PhiClass cls, std::string_view original, std::string& out);
  // Appends the placeholder for `original`, issuing a new one on its first mention.
  void AppendPlaceholder(PhiClass cls, std::string_view original, std::string& out);
  static std::string Generalization(PhiClass cls, std::string_view original);

  // One original of one class, issued as "[TAG_index]".
  struct VaultEntry {
    std::size_t off;  // the original is originals_[off, off + len)
    std::size_t len;
    std::uint32_t index;
    PhiClass cls;
  };
  std::string_view Original(const VaultEntry& e) const {
    return {originals_.data() + e.off, e.len};
  }
  // The entry for (cls, original), or nullptr.
  const VaultEntry* Find(PhiClass cls, std::string_view original) const;
  // The entry a complete placeholder "[TAG_N]" was issued for, or nullptr.
  const VaultEntry* FindPlaceholder(std::string_view placeholder) const;
  void Insert(PhiClass cls, std::string_view original, std::uint32_t index);
  // Puts entries_[entry] into the first free slot of its probe sequence.
  void PlaceSlot(std::uint32_t entry);
  static std::size_t SlotHash(PhiClass cls, std::string_view original);

  std::shared_ptr<const Detector> detector_;
  TransformMode mode_;
  FindingCounts counts_{};
  std::array<std::uint32_t, kPhiClassCount> next_index_{};
  // Vault. Every original once per class, back to back in one buffer that is wiped before
  // it is freed (also when it grows); an open-addressing index over (class, original); and per
  // class the entry of each placeholder number (entry + 1; 0 for a number skipped because the
  // input held that placeholder). Two small allocations per request instead of two map nodes
  // per finding.
  std::string originals_;
  std::vector<VaultEntry> entries_;
  std::vector<std::uint32_t> slots_;  // entry + 1, 0 empty; size a power of two (or 0)
  std::array<std::vector<std::uint32_t>, kPhiClassCount> by_index_;
  std::set<std::string, std::less<>> reserved_;
  std::size_t max_placeholder_len_ = 0;
};

// Re-identifies a response that arrives in chunks (SSE deltas). Placeholders split across
// chunks are restored: text that could still be the start of a placeholder is held back, at
// most max_placeholder_length() - 1 bytes. Borrows the Session, which must outlive it.
class StreamReidentifier {
 public:
  explicit StreamReidentifier(const Session& session) : session_(session) {}
  // Returns the text that can be released now (possibly empty).
  std::string Feed(std::string_view chunk);
  // Releases whatever is held back (an incomplete placeholder stays as it is).
  std::string Finish();
  std::size_t held_bytes() const { return pending_.size(); }

 private:
  const Session& session_;
  std::string pending_;
};

// Re-identifies streamed JSON events (OpenAI chat/responses chunks, Anthropic message events):
// every string in each event is re-identified; strings at the same JSON path across events
// (choices[0].delta.content, delta.text, ...) are treated as one stream, so placeholders split
// across events are restored, and the JSON is re-encoded with correct escaping.
class JsonStreamReidentifier {
 public:
  explicit JsonStreamReidentifier(const Session& session) : session_(session) {}
  // `event_json` is the data of one SSE event. Non-JSON data (e.g. "[DONE]") is returned as is.
  std::string Feed(std::string_view event_json);
  // Text still held back, per JSON path; the caller emits it before ending the stream.
  std::vector<std::pair<std::string, std::string>> Finish();

 private:
  const Session& session_;
  std::map<std::string, std::unique_ptr<StreamReidentifier>> streams_;
};

}  // namespace baagate::phi
