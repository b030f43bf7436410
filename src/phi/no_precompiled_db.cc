// For builds without the build-time databases (the build tool itself, fuzz targets): the
// detector then compiles its rules at start-up.
#include <string_view>

namespace baagate::phi::generated {
std::string_view PrecompiledDatabases() { return {}; }
}  // namespace baagate::phi::generated
