#include "audit/verify.h"

#include <dirent.h>
#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "audit/chain.h"
#include "audit/merkle.h"

namespace baagate::audit {

namespace {

std::string MirrorName(std::string_view log_id) {
  std::string s(log_id);
  std::replace(s.begin(), s.end(), '/', '_');
  return s;
}

std::vector<std::string> MirrorNotes(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 5 && name.substr(name.size() - 5) == ".note") {
      std::ifstream in(dir + "/" + name, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      out.push_back(ss.str());
    }
  }
  ::closedir(d);
  return out;
}

VerifyReport Fail(VerifyReport r, std::optional<std::uint64_t> seq, std::string problem) {
  r.ok = false;
  r.first_bad_seq = seq;
  r.problem = std::move(problem);
  return r;
}

// Whether `hex` is `d` in lower-case hex. With SSE2 the digest is encoded 16 bytes at a time
// (nibbles interleaved, then '0' + n, plus 39 where n > 9) and compared in vector registers;
// a table encoding a byte pair at a time took ~260 instructions.
bool HexEquals(std::string_view hex, const core::Sha256Digest& d) {
  if (hex.size() != 64) return false;
#if defined(__SSE2__)
  const __m128i low = _mm_set1_epi8(0x0f), nine = _mm_set1_epi8(9), zero = _mm_set1_epi8('0'),
                gap = _mm_set1_epi8('a' - '0' - 10);
  auto digits = [&](__m128i nibbles) {
    return _mm_add_epi8(_mm_add_epi8(nibbles, zero),
                        _mm_and_si128(_mm_cmpgt_epi8(nibbles, nine), gap));
  };
  auto same = [&](__m128i expect, std::size_t at) {
    const __m128i got = _mm_loadu_si128(reinterpret_cast<const __m128i*>(hex.data() + at));
    return _mm_movemask_epi8(_mm_cmpeq_epi8(got, expect)) == 0xffff;
  };
  bool equal = true;
  for (std::size_t half = 0; half < 2; ++half) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d.data() + 16 * half));
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), low), lo = _mm_and_si128(v, low);
    equal &= same(digits(_mm_unpacklo_epi8(hi, lo)), 32 * half) &
             same(digits(_mm_unpackhi_epi8(hi, lo)), 32 * half + 16);
  }
  return equal;
#else
  constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < 32; ++i) {
    if (hex[2 * i] != kDigits[d[i] >> 4] || hex[2 * i + 1] != kDigits[d[i] & 15]) return false;
  }
  return true;
#endif
}

// Whether `s` is `ts_ms` in the form the writer produces, "YYYY-MM-DDTHH:MM:SS.mmmZ": the
// column formatted and compared, which costs a third of parsing and validating the text.
bool IsWriterTs(std::string_view s, std::int64_t ts_ms) {
  using namespace std::chrono;
  // Years 0000-9999 (four digits), as the writer's form allows.
  constexpr std::int64_t kMin = -62167219200000, kEnd = 253402300800000;
  if (s.size() != 24 || ts_ms < kMin || ts_ms >= kEnd) return false;
  const std::int64_t day = (ts_ms - kMin) / 86400000 + kMin / 86400000;  // floor, kMin a day
  std::int64_t ms = ts_ms - day * 86400000;
  const year_month_day ymd{sys_days{days{day}}};
  char t[24];
  auto put = [&](std::size_t at, std::size_t width, std::int64_t v) {
    for (std::size_t i = width; i-- > 0; v /= 10) t[at + i] = static_cast<char>('0' + v % 10);
  };
  put(0, 4, static_cast<int>(ymd.year()));
  put(5, 2, static_cast<unsigned>(ymd.month()));
  put(8, 2, static_cast<unsigned>(ymd.day()));
  put(11, 2, ms / 3600000);
  put(14, 2, ms / 60000 % 60);
  put(17, 2, ms / 1000 % 60);
  put(20, 3, ms % 1000);
  t[4] = t[7] = '-';
  t[10] = 'T';
  t[13] = t[16] = ':';
  t[19] = '.';
  t[23] = 'Z';
  return std::memcmp(t, s.data(), sizeof t) == 0;
}

}  // namespace

std::optional<std::uint64_t> BodySeq(std::string_view body) {
  // Top-level "seq" is the last occurrence: JCS sorts keys, and the only nested objects that can
  // follow it ("usage") have fixed keys. Strings cannot hold '"', so this cannot match inside one.
  constexpr std::string_view kKey = "\"seq\":";
  auto pos = body.rfind(kKey);
  if (pos == std::string_view::npos) return std::nullopt;
  pos += kKey.size();
  std::uint64_t n = 0;
  std::size_t digits = 0;
  while (pos < body.size() && body[pos] >= '0' && body[pos] <= '9' && digits < 19) {
    n = n * 10 + static_cast<std::uint64_t>(body[pos++] - '0');
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  return n;
}

namespace {

// The '"' bytes and the ':' bytes of a body, a bit each, per 64-byte block.
struct BlockMasks {
  std::uint64_t quote, colon;
};

void BodyMasksSse2(const char* p, std::size_t n, BlockMasks* out) {
  auto block = [](const char* q) {
    BlockMasks m{0, 0};
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), colon = _mm_set1_epi8(':');
    for (unsigned i = 0; i < 64; i += 16) {
      const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + i));
      m.quote |= std::uint64_t{static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(w, quote)))}
                 << i;
      m.colon |= std::uint64_t{static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(w, colon)))}
                 << i;
    }
#else
    for (unsigned i = 0; i < 64; ++i) {
      m.quote |= std::uint64_t{q[i] == '"'} << i;
      m.colon |= std::uint64_t{q[i] == ':'} << i;
    }
#endif
    return m;
  };
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) *out++ = block(p + i);
  if (i < n) {
    char tail[64] = {};
    std::memcpy(tail, p + i, n - i);
    *out = block(tail);
  }
}

#if defined(__x86_64__)
// The same with one compare per block and character (a third of the column check's time went
// to the SSE2 masks).
__attribute__((target("avx512f,avx512bw"))) void BodyMasksAvx512(const char* p, std::size_t n,
                                                                 BlockMasks* out) {
  const __m512i quote = _mm512_set1_epi8('"'), colon = _mm512_set1_epi8(':');
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i w = _mm512_loadu_si512(p + i);
    *out++ = {_mm512_cmpeq_epi8_mask(w, quote), _mm512_cmpeq_epi8_mask(w, colon)};
  }
  if (i < n) {  // the masked-off bytes are neither loaded nor can fault
    const __m512i w = _mm512_maskz_loadu_epi8((std::uint64_t{1} << (n - i)) - 1, p + i);
    *out = {_mm512_cmpeq_epi8_mask(w, quote), _mm512_cmpeq_epi8_mask(w, colon)};
  }
}
#endif

// The keys WalkBody looks for, by (length, first letter): one table load per key instead of a
// switch on the length, whose jump a body's mix of key lengths kept mispredicting. A hit is
// then compared in full.
enum KeyOfInterest : std::uint8_t { kOther, kEventId, kLogId, kPhase, kPrevHash, kTs, kSeq };
constexpr std::string_view kKeyNames[] = {"", "event_id", "log_id", "phase", "prev_hash", "ts",
                                          "seq"};
constexpr unsigned kAllKeys = 0b1111110;  // a bit per key of interest
constexpr std::size_t KeySlot(std::size_t len, unsigned char first) {
  return (len & 31) * 32 + (first & 31);
}
constexpr auto kKeyTable = [] {
  std::array<std::uint8_t, 32 * 32> t{};
  for (std::uint8_t k = kEventId; k <= kSeq; ++k) {
    t[KeySlot(kKeyNames[k].size(), static_cast<unsigned char>(kKeyNames[k][0]))] = k;
  }
  return t;
}();

using MasksFn = void (*)(const char*, std::size_t, BlockMasks*);

// Whether the string value at b[at] (its opening quote) is `want`.
bool StringIs(std::string_view b, std::size_t at, std::string_view want) {
  return at + want.size() + 1 < b.size() && b.compare(at + 1, want.size(), want) == 0 &&
         b[at + want.size() + 1] == '"';
}

// Compares the body's top-level members that the row's columns repeat with the columns,
// setting a bit per key in `found` and in `differs`; false if the body is not of the form the
// writer produces. The keys are found from the masks alone: a key is the string before a ':'
// (a value cannot be followed by one, and no string can hold '"': the schema has no free
// text), so the quote-then-colon bits are the keys' closing quotes and the quote before each
// opens it. A body has ~36 keys and ~130 quotes, and only six keys matter; the values are
// compared in place with the columns, not extracted.
//
// The walk does not track nesting: it relies on the schema, in which these keys occur only at
// the top level (nested objects are usage counts, de-identification counts by class and
// configuration flags). A body the writer did not produce fails the record_hash check, which
// outranks this one.
template <MasksFn kBodyMasks>
[[gnu::always_inline]] inline bool WalkBodyWith(const StoredRecordView& r, unsigned& found,
                                               unsigned& differs) {
  const std::string_view b = r.body;
  const std::size_t n = b.size();
  if (n < 2 || b.front() != '{' || b.back() != '}') return false;
  const std::size_t blocks = (n + 63) / 64;
  constexpr std::size_t kSmall = 64;  // blocks: a body of up to 4 KB (records are ~1.2 KB)
  std::array<BlockMasks, kSmall + 1> small;
  std::vector<BlockMasks> large;
  BlockMasks* m = blocks <= kSmall ? small.data() : (large.resize(blocks + 1), large.data());
  m[0] = {0, 0};  // a block before the first, for the search of an opening quote below
  ++m;
  kBodyMasks(b.data(), n, m);
  for (std::size_t blk = 0; blk < blocks; ++blk) {
    const std::uint64_t quotes = m[blk].quote;
    // A quote at bit 63 closes a key if the next block starts with ':'.
    const std::uint64_t carry = blk + 1 < blocks ? m[blk + 1].colon & 1 : 0;
    for (std::uint64_t keys = quotes & ((m[blk].colon >> 1) | (carry << 63)); keys != 0;
         keys &= keys - 1) {
      // The opening quote is the last one before the closing one, in its block or the one
      // before (m[-1] is empty); a longer key is none of ours.
      const std::size_t close = 64 * blk + static_cast<std::size_t>(std::countr_zero(keys));
      const std::uint64_t here = quotes & ((keys & -keys) - 1);
      const std::uint64_t before = m[static_cast<std::ptrdiff_t>(blk) - 1].quote;
      const std::size_t open =
          here != 0 ? 64 * blk + 63 - static_cast<std::size_t>(std::countl_zero(here))
                    : 64 * blk - 1 - static_cast<std::size_t>(std::countl_zero(before));
      const std::size_t len = close - open - 1;  // 64 or more if neither block has the quote
      const std::uint8_t key =
          len - 1 < 31 ? kKeyTable[KeySlot(len, static_cast<unsigned char>(b[open + 1]))]
                       : std::uint8_t{kOther};
      if (key == kOther || std::memcmp(b.data() + open + 1, kKeyNames[key].data(), len) != 0) {
        continue;
      }
      found |= 1u << key;
      // The value starts at close + 2 (close + 1 is the ':', which is not the last byte).
      std::size_t k = close + 2;
      bool same = false;
      if (key == kSeq) {
        std::uint64_t v = 0;
        std::size_t digits = 0;
        for (; k < n && b[k] >= '0' && b[k] <= '9'; ++k) {
          if (++digits > 19) return false;
          v = v * 10 + static_cast<std::uint64_t>(b[k] - '0');
        }
        if (digits == 0 || k == n || (b[k] != ',' && b[k] != '}')) return false;
        same = v == r.seq;
      } else {
        if (b[k] != '"') return false;  // a string value must follow the key at once
        switch (key) {
          case kEventId: same = StringIs(b, k, r.event_id); break;
          case kLogId: same = StringIs(b, k, r.log_id); break;
          case kPhase: same = StringIs(b, k, r.phase); break;
          case kPrevHash:
            same = k + 65 < n && HexEquals(b.substr(k + 1, 64), r.prev_hash) && b[k + 65] == '"';
            break;
          case kTs:
            same =
                k + 25 < n && IsWriterTs(b.substr(k + 1, 24), r.ts_ms) && b[k + 25] == '"';
            break;
          default: break;
        }
      }
      if (!same) differs |= 1u << key;
    }
  }
  return true;
}

#if defined(__x86_64__)
// The walk compiled for the CPUs with AVX-512BW (and the bit instructions that come with it),
// chosen at run time (the count of leading zeros is then one instruction).
__attribute__((target("avx512f,avx512bw,lzcnt,bmi,bmi2"))) bool WalkBodyAvx512(
    const StoredRecordView& r, unsigned& found, unsigned& differs) {
  return WalkBodyWith<BodyMasksAvx512>(r, found, differs);
}
#endif

// Why the walk's findings do not let the row stand, or nullptr.
const char* Mismatch(bool walked, unsigned found, unsigned differs) {
  if (!walked || found != kAllKeys) return "the record is not a canonical baagate.audit/1 object";
  if (differs == 0) return nullptr;
  if (differs & (1u << kSeq)) return "the record's seq field differs from its position";
  if (differs & (1u << kEventId)) return "the event_id column differs from the record";
  if (differs & (1u << kLogId)) return "the log_id column differs from the record";
  if (differs & (1u << kPhase)) return "the phase column differs from the record";
  if (differs & (1u << kPrevHash)) return "the prev_hash column differs from the record";
  return "the ts_ms column differs from the record";
}

}  // namespace

const char* RowMismatch(const StoredRecordView& r) {
  unsigned found = 0, differs = 0;
#if defined(__x86_64__)
  static const bool kAvx512 = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("bmi2");
  if (kAvx512) {
    const bool walked = WalkBodyAvx512(r, found, differs);
    return Mismatch(walked, found, differs);
  }
#endif
  const bool walked = WalkBodyWith<BodyMasksSse2>(r, found, differs);
  return Mismatch(walked, found, differs);
}

const char* RowMismatchPortable(const StoredRecordView& r) {
  unsigned found = 0, differs = 0;
  const bool walked = WalkBodyWith<BodyMasksSse2>(r, found, differs);
  return Mismatch(walked, found, differs);
}

const char* RowMismatch(const StoredRecord& r) { return RowMismatch(ViewOf(r)); }

namespace {

// Records are read and hashed in batches of consecutive seq numbers, possibly on several
// threads (each with its own store connection). A reader also folds its batch's leaves into
// Merkle subtrees (FoldLeaves), with a snapshot at every checkpoint size inside the batch; the
// caller's thread then only checks seq and the links in order and appends each batch's few
// subtrees to the tree, so it does almost no hashing and the readers scale.

struct Item {
  std::uint64_t seq = 0;
  core::Sha256Digest prev_hash{};  // as stored
  core::Sha256Digest hash{};       // recomputed from the stored prev_hash and body
  const char* problem = nullptr;   // a check that needs no other record failed
};

// The batch's fold after its first `size - begin` items: with the tree of the records before
// the batch, the tree at `size`, a checkpoint's size.
struct Snapshot {
  std::uint64_t size = 0;
  std::vector<Subtree> subtrees;
};

struct Batch {
  bool done = false;
  bool more = false;  // a row at or after the batch's end exists
  std::uint64_t next_seq = 0;  // if `more`: that row's seq
  core::Status status;
  std::vector<Item> items;
  std::vector<Subtree> fold;  // all the items' leaves
  std::vector<Snapshot> snapshots;
};

// Hashes rows two at a time (RecordHashTwo, HashLeafTwo: about 40% less time than one by one
// with SHA-NI), so every other row waits for the next. Its view dies with the scan step, hence
// the copy of its body: into a buffer reused for every pair, so it stays in cache. The leaves
// are folded when the batch is read (FoldLeaves, which pairs the inner nodes too).
class PairHasher {
 public:
  explicit PairHasher(std::vector<Hash>& leaves) : leaves_(leaves) {}

  // `it` (seq, prev_hash, problem set) stays valid until Finish.
  void Add(Item& it, const StoredRecordView& r) {
    if (!waiting_) {
      waiting_ = &it;
      waiting_stored_ = r.record_hash;
      waiting_body_.assign(r.body);
      return;
    }
    RecordHashTwo(waiting_->prev_hash, waiting_body_, it.prev_hash, r.body, waiting_->hash,
                  it.hash);
    CheckHash(*waiting_, waiting_stored_);
    CheckHash(it, r.record_hash);
    Hash& leaf_a = leaves_.emplace_back();
    Hash& leaf_b = leaves_.emplace_back();
    HashLeafTwo(AsView(waiting_->hash), AsView(it.hash), leaf_a, leaf_b);
    waiting_ = nullptr;
  }

  // Hashes a row left without a partner.
  void Finish() {
    if (!waiting_) return;
    waiting_->hash = RecordHash(waiting_->prev_hash, waiting_body_);
    CheckHash(*waiting_, waiting_stored_);
    leaves_.push_back(HashLeaf(AsView(waiting_->hash)));
    waiting_ = nullptr;
  }

 private:
  // A record_hash mismatch outranks the column check.
  static void CheckHash(Item& it, const core::Sha256Digest& stored) {
    if (it.hash != stored) {
      it.problem = "record_hash does not match the record (altered, inserted or reordered)";
    }
  }

  std::vector<Hash>& leaves_;  // reserved for the batch: references into it stay valid
  Item* waiting_ = nullptr;
  core::Sha256Digest waiting_stored_{};
  std::string waiting_body_;
};

void ReadBatch(Store& store, const std::string& log_id, std::uint64_t size, std::uint64_t index,
               const std::vector<std::uint64_t>& checkpoint_sizes, Batch& out) {
  const std::uint64_t begin = index * size, end = begin + size;
  out.items.clear();
  out.items.reserve(size);  // no reallocation: the hasher's pointer into items stays valid
  out.snapshots.clear();
  out.more = false;
  std::vector<Hash> leaves;
  leaves.reserve(size);
  PairHasher hasher(leaves);
  out.status = store.ScanViews(log_id, begin, [&](const StoredRecordView& r) {
    if (r.seq >= end) {
      out.more = true;
      out.next_seq = r.seq;
      return false;
    }
    Item& it = out.items.emplace_back();
    it.seq = r.seq;
    it.prev_hash = r.prev_hash;
    it.problem = RowMismatch(r);
    hasher.Add(it, r);
    return true;
  });
  hasher.Finish();
  // The leaves' subtrees, and a snapshot at every checkpoint size inside the batch.
  const std::vector<std::uint64_t> inside(
      std::upper_bound(checkpoint_sizes.begin(), checkpoint_sizes.end(), begin),
      std::upper_bound(checkpoint_sizes.begin(), checkpoint_sizes.end(), end));
  FoldedLeaves folded = FoldLeaves(begin, std::move(leaves), inside);
  out.fold = std::move(folded.subtrees);
  for (auto& [at, subtrees] : folded.prefixes) out.snapshots.push_back({at, std::move(subtrees)});
}

// Hands out batches to reader threads, at most `window` ahead of the consumer.
class BatchReader {
 public:
  BatchReader(Store& store, const std::string& log_id, const VerifyOptions& options,
              std::vector<std::uint64_t> checkpoint_sizes)
      : store_(store),
        log_id_(log_id),
        size_(std::max<std::uint64_t>(1, options.batch)),
        checkpoint_sizes_(std::move(checkpoint_sizes)) {
    unsigned threads = options.threads ? options.threads : std::thread::hardware_concurrency();
    if (!options.open_reader) threads = 0;
    for (unsigned i = 0; i < threads; ++i) {
      auto reader = options.open_reader();
      if (!reader.ok()) break;  // fewer threads; the caller's store still works
      readers_.push_back(std::move(reader).value());
    }
    window_ = 2 * std::max<std::size_t>(1, readers_.size());
    for (auto& r : readers_) threads_.emplace_back([this, s = r.get()] { Work(*s); });
  }
  ~BatchReader() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // The batch `index`; valid until the next call.
  Batch& Get(std::uint64_t index) {
    if (threads_.empty()) {
      ReadBatch(store_, log_id_, size_, index, checkpoint_sizes_, current_);
      return current_;
    }
    std::unique_lock lock(mu_);
    consumed_ = index;
    cv_.notify_all();
    cv_.wait(lock, [&] { return slots_.count(index) && slots_[index].done; });
    current_ = std::move(slots_[index]);
    slots_.erase(index);
    return current_;
  }

 private:
  void Work(Store& store) {
    for (;;) {
      std::uint64_t index;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || next_ < consumed_ + window_; });
        if (stop_) return;
        index = next_++;
        slots_[index];  // claimed, not done
      }
      Batch b;
      ReadBatch(store, log_id_, size_, index, checkpoint_sizes_, b);
      b.done = true;
      {
        std::lock_guard lock(mu_);
        slots_[index] = std::move(b);
      }
      cv_.notify_all();
    }
  }

  Store& store_;
  const std::string& log_id_;
  const std::uint64_t size_;
  const std::vector<std::uint64_t> checkpoint_sizes_;  // sorted
  std::vector<std::unique_ptr<Store>> readers_;
  std::vector<std::thread> threads_;
  std::size_t window_ = 1;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::uint64_t, Batch> slots_;  // guarded by mu_
  std::uint64_t next_ = 0, consumed_ = 0;  // guarded by mu_
  bool stop_ = false;                      // guarded by mu_
  Batch current_;
};

}  // namespace

core::Result<VerifyReport> VerifyLog(Store& store, const std::string& log_id,
                                     const VerifyOptions& options) {
  VerifyReport report;
  report.log_id = log_id;
  if (!options.key) return core::InvalidArgumentError("verify: a public key is required");

  // 1. Checkpoints, signed by the pinned key; the mirror fills in any the store lost.
  auto stored = store.Checkpoints(log_id);
  if (!stored.ok()) return stored.status();
  std::vector<std::string> notes;
  for (const auto& cp : *stored) notes.push_back(cp.note);
  if (!options.mirror_dir.empty()) {
    auto mirrored = MirrorNotes(options.mirror_dir + "/" + MirrorName(log_id));
    notes.insert(notes.end(), mirrored.begin(), mirrored.end());
  }
  std::map<std::uint64_t, Checkpoint> checkpoints;
  for (const auto& note : notes) {
    auto cp = OpenCheckpoint(note, *options.key);
    if (!cp.ok()) {
      return Fail(report, std::nullopt, "checkpoint: " + cp.status().message());
    }
    auto [it, inserted] = checkpoints.emplace(cp->tree_size, *cp);
    if (!inserted && (it->second.root != cp->root || it->second.chain_head != cp->chain_head)) {
      return Fail(report, std::nullopt,
                  "two signed checkpoints disagree at tree size " + std::to_string(cp->tree_size) +
                      " (split view)");
    }
  }
  for (auto it = checkpoints.begin(); it != checkpoints.end(); ++it) {
    if (it != checkpoints.begin() && std::prev(it)->second.ts_ms > it->second.ts_ms) {
      return Fail(report, std::nullopt,
                  "checkpoint at tree size " + std::to_string(it->first) +
                      " is older than a smaller one (tree size decreased over time)");
    }
  }
  report.checkpoints = checkpoints.size();

  // 2 and 3. Records, streamed in seq order; the tree keeps only its right edge, and grows a
  // whole batch at a time from the subtrees its reader folded.
  CompactRange tree;  // the records of the batches before the current one
  const Batch* batch = nullptr;
  std::size_t snapshot = 0;  // next candidate in batch->snapshots
  core::Sha256Digest prev{};
  std::uint64_t expected = 0;
  auto next_cp = checkpoints.begin();
  std::optional<VerifyReport> failure;
  std::vector<std::uint64_t> checkpoint_sizes;
  for (const auto& [size, cp] : checkpoints) checkpoint_sizes.push_back(size);
  // The root of the first `expected` records: the tree so far plus the current batch's fold up
  // to there, which its reader saved because `expected` is a checkpoint size.
  auto root = [&]() -> std::optional<Hash> {
    if (expected == tree.size()) return tree.Root();
    while (batch && snapshot < batch->snapshots.size() &&
           batch->snapshots[snapshot].size < expected) {
      ++snapshot;
    }
    if (!batch || snapshot == batch->snapshots.size() ||
        batch->snapshots[snapshot].size != expected) {
      return std::nullopt;  // cannot happen: readers snapshot at every checkpoint size
    }
    CompactRange at = tree;
    for (const Subtree& st : batch->snapshots[snapshot].subtrees) at.AppendSubtree(st);
    return at.Root();
  };
  auto check_checkpoint = [&]() -> bool {
    while (next_cp != checkpoints.end() && next_cp->first == expected) {
      const Checkpoint& cp = next_cp->second;
      if (cp.tree_size > 0 && (root() != cp.root || prev != cp.chain_head)) {
        failure = Fail(report, cp.tree_size - 1,
                       "Merkle root or chain head differs from the checkpoint signed at tree "
                       "size " + std::to_string(cp.tree_size));
        return false;
      }
      ++next_cp;
    }
    return true;
  };
  auto check_item = [&](const Item& it) -> bool {
    if (it.seq != expected) {
      failure = Fail(report, expected,
                     it.seq > expected ? "seq " + std::to_string(expected) +
                                             " is missing (next is " + std::to_string(it.seq) + ")"
                                       : "seq out of order");
      return false;
    }
    if (it.prev_hash != prev) {
      failure = Fail(report, it.seq, "prev_hash does not link to the previous record");
      return false;
    }
    if (it.problem) {
      failure = Fail(report, it.seq, it.problem);
      return false;
    }
    prev = it.hash;
    ++expected;
    return check_checkpoint();
  };
  if (!check_checkpoint()) return *failure;
  {
    BatchReader reader(store, log_id, options, std::move(checkpoint_sizes));
    for (std::uint64_t index = 0;; ++index) {
      Batch& b = reader.Get(index);
      if (!b.status.ok()) return b.status;
      batch = &b;
      snapshot = 0;
      for (const Item& it : b.items) {
        if (!check_item(it)) break;
      }
      if (failure) break;
      // Every item checked out, so the batch's leaves continue the tree.
      for (const Subtree& st : b.fold) tree.AppendSubtree(st);
      batch = nullptr;
      if (tree.size() != expected) return core::InternalError("verify: Merkle fold out of step");
      if (!b.more) break;
      // A gap up to the next stored row is reported now rather than after reading the empty
      // batches in between (a forged huge seq would otherwise take forever).
      if (b.next_seq != expected) {
        failure = Fail(report, expected,
                       "seq " + std::to_string(expected) + " is missing (next is " +
                           std::to_string(b.next_seq) + ")");
        break;
      }
    }
  }
  if (failure) {
    failure->records = expected;
    return *failure;
  }
  report.records = expected;
  if (next_cp != checkpoints.end()) {
    return Fail(report, expected,
                "log truncated: a checkpoint covers " + std::to_string(next_cp->first) +
                    " records but only " + std::to_string(expected) + " are stored");
  }

  // 4. Consistency between checkpoints: every checkpoint's root was recomputed above from one
  // stream of leaves, so each signed tree is a prefix of every later one (an RFC 9162
  // consistency proof between them could only restate that).

  // 5. The unsigned tail.
  report.signed_size = checkpoints.empty() ? 0 : checkpoints.rbegin()->first;
  report.unsigned_tail = report.records - report.signed_size;
  report.ok = true;
  return report;
}

}  // namespace baagate::audit
