// Fuzz entry point for what credential services and helpers answer: the
// first byte picks the parser, the rest is the answer.
//
//   0 STS AssumeRole answer       4 container / IMDS credentials JSON
//   1 STS web identity answer     5 the SSO token cache file
//   2 an STS error answer         6 SSO GetRoleCredentials answer
//   3 credential_process output   7 a credential_process command line
//   8 the shared files' INI
//
// Never a crash, and the parsers keep their promises: credentials they
// accept have a key id and a secret (and temporary ones a token), an error
// has a message, an STS error's message holds no control character
// whatever the server wrote (it goes to logs), and a command line splits
// into at least one word or fails.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "clients/aws/credentials.h"
#include "clients/aws/metadata_credentials.h"
#include "clients/aws/process_credentials.h"
#include "clients/aws/sso_credentials.h"
#include "clients/aws/sts.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

template <typename R>
void CheckCredentials(const R& c, bool temporary) {
  if (!c) {
    Check(!c.error().message().empty());
    return;
  }
  Check(!c->access_key_id.empty() && !c->secret_access_key.empty());
  if (temporary) Check(!c->session_token.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 9) {
    case 0:
      CheckCredentials(kc::aws::ParseStsCredentials(input, "AssumeRole"), true);
      break;
    case 1:
      CheckCredentials(kc::aws::ParseStsCredentials(input, "AssumeRoleWithWebIdentity"), true);
      break;
    case 2: {
      const kc::Error e = kc::aws::ClassifyStsError(400, input, "STS");
      for (char c : e.message()) Check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
      break;
    }
    case 3:
      CheckCredentials(kc::aws::ParseProcessCredentials(input), false);
      break;
    case 4:
      CheckCredentials(kc::aws::ParseMetadataCredentials(input, "fuzz"), true);
      break;
    case 5: {
      auto token = kc::aws::ParseSsoCacheFile(input);
      if (token) Check(!token->access_token.empty());
      break;
    }
    case 6:
      CheckCredentials(kc::aws::ParseSsoRoleCredentials(input), true);
      break;
    case 7: {
      auto words = kc::aws::SplitCommandLine(input);
      if (words) Check(!words->empty());
      break;
    }
    default: {
      auto ini = kc::aws::ParseIni(input, "fuzz");
      if (!ini) Check(!ini.error().message().empty());
      break;
    }
  }
  return 0;
}
