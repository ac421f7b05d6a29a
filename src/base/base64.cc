#include "base/base64.h"

#include <array>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kc::util {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr auto kDecode = MakeDecodeTable();

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.resize((bytes.size() + 2) / 3 * 4);
  size_t o = 0;
  size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
    out[o++] = kAlphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (rest == 2) v |= uint32_t{p[i + 1]} << 8;
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  return out;
}

namespace {

// Decoding tables: a character's 6 bits already shifted into place for its
// position in a 4-character group, so a group is four loads and three ORs.
// A character outside the alphabet sets kInvalid, which survives the ORs.
constexpr uint32_t kInvalid = 1u << 24;

constexpr std::array<uint32_t, 256> MakeShiftedTable(int shift) {
  std::array<uint32_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (int i = 0; i < 64; ++i) {
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<uint32_t>(i) << shift;
  }
  return t;
}
constexpr auto kShift18 = MakeShiftedTable(18);
constexpr auto kShift12 = MakeShiftedTable(12);
constexpr auto kShift6 = MakeShiftedTable(6);
constexpr auto kShift0 = MakeShiftedTable(0);

// The careful path, one character at a time: the last group (padding) and
// the error message's offset.
Status DecodeGroup(std::string_view text, size_t i, std::string& out) {
  int pad = 0;
  uint32_t v = 0;
  for (size_t j = 0; j < 4; ++j) {
    unsigned char c = static_cast<unsigned char>(text[i + j]);
    if (c == '=' && i + 4 == text.size() && j >= 2) {
      ++pad;
      v <<= 6;
      continue;
    }
    int8_t d = kDecode[c];
    if (d < 0 || pad > 0) {
      return Fail(ErrorCode::kParse, "invalid base64 character at offset " + std::to_string(i + j));
    }
    v = (v << 6) | static_cast<uint32_t>(d);
  }
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xff));
  if (pad < 1) out.push_back(static_cast<char>(v & 0xff));
  return Ok();
}

#if defined(__x86_64__)
// 32 characters → 24 bytes per step with AVX2, after W. Muła and D. Lemire,
// "Faster Base64 Encoding and Decoding Using AVX2 Instructions" (2018):
// each character's two nibbles index two small tables whose entries share
// a bit only for characters outside the alphabet; a third table, indexed by
// the high nibble ('/' moved to its own slot), holds what to add to turn
// the character into its 6-bit value; multiply-adds then pack four 6-bit
// values into three bytes. Decodes whole blocks from the start of `in`
// until one holds a character outside the alphabet, and returns how many
// characters it decoded (a multiple of 32); the caller does the rest.
__attribute__((target("avx2"))) size_t DecodeBlocksAvx2(const unsigned char* in, size_t chars,
                                                        unsigned char* out) {
  const __m256i lut_lo =
      _mm256_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B,
                       0x1B, 0x1B, 0x1A, 0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                       0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A);
  const __m256i lut_hi =
      _mm256_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10,
                       0x10, 0x10, 0x10, 0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10,
                       0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
  const __m256i lut_roll =
      _mm256_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 19, 4, -65,
                       -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  const __m256i slash = _mm256_set1_epi8('/');
  const __m256i pack_pairs = _mm256_set1_epi32(0x01400140);  // a·64 + b, c·64 + d
  const __m256i pack_quads = _mm256_set1_epi32(0x00011000);  // ab·4096 + cd
  const __m256i order = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2,
                                         1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
  size_t done = 0;
  for (; done + 32 <= chars; done += 32, out += 24) {
    const __m256i text = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + done));
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(text, 4), nibble);
    const __m256i lo = _mm256_and_si256(text, nibble);
    // Bytes ≥ 0x80 index nothing (pshufb gives 0 for them in lut_hi's
    // place only when the index's top bit is set, which `hi` never has), so
    // they are caught by lut_hi's 0x10 for high nibbles 8..F.
    if (!_mm256_testz_si256(_mm256_shuffle_epi8(lut_lo, lo), _mm256_shuffle_epi8(lut_hi, hi))) {
      break;
    }
    const __m256i roll =
        _mm256_shuffle_epi8(lut_roll, _mm256_add_epi8(_mm256_cmpeq_epi8(text, slash), hi));
    const __m256i values = _mm256_add_epi8(text, roll);
    const __m256i packed = _mm256_madd_epi16(_mm256_maddubs_epi16(values, pack_pairs), pack_quads);
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(packed, order), lanes);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(bytes));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 16), _mm256_extracti128_si256(bytes, 1));
  }
  return done;
}

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif

}  // namespace

// Every group but the last goes through the tables without a branch per
// character; only when a group turns out invalid is it decoded again by the
// careful path, for the message.
Status Base64DecodeInto(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 != 0) {
    return Fail(ErrorCode::kParse,
                "base64 text length " + std::to_string(text.size()) + " is not a multiple of 4");
  }
  if (text.empty()) return Ok();
  const size_t groups = text.size() / 4 - 1;  // the last one may hold padding
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  size_t bad_group = groups;
  out.resize_and_overwrite(groups * 3 + 3, [&](char* buf, size_t) {
    auto* o = reinterpret_cast<unsigned char*>(buf);
    size_t g = 0;
#if defined(__x86_64__)
    if (HasAvx2()) {
      g = DecodeBlocksAvx2(in, groups * 4, o) / 4;
      in += g * 4;
      o += g * 3;
    }
#endif
    for (; g < groups; ++g, in += 4, o += 3) {
      const uint32_t v = kShift18[in[0]] | kShift12[in[1]] | kShift6[in[2]] | kShift0[in[3]];
      if (v & kInvalid) {
        bad_group = g;
        return g * 3;
      }
      o[0] = static_cast<unsigned char>(v >> 16);
      o[1] = static_cast<unsigned char>(v >> 8);
      o[2] = static_cast<unsigned char>(v);
    }
    return groups * 3;
  });
  if (bad_group < groups) return DecodeGroup(text, bad_group * 4, out);
  return DecodeGroup(text, groups * 4, out);
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string out;
  if (Status s = Base64DecodeInto(text, out); !s) return Fail(s.error());
  return out;
}

}  // namespace kc::util
