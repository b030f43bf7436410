# Writes OUTPUT: a C++ source defining baagate::config::EmbeddedRegistryYaml() from INPUT.
file(READ "${INPUT}" BAAGATE_EMBED_CONTENT)
string(FIND "${BAAGATE_EMBED_CONTENT}" ")baagate_embed\"" BAAGATE_BAD)
if(NOT BAAGATE_BAD EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/embed.cmake. Do not edit.\n"
  "#include \"config/registry.h\"\n"
  "namespace baagate::config {\n"
  "std::string_view EmbeddedRegistryYaml() {\n"
  "  static constexpr char kYaml[] = R\"baagate_embed(${BAAGATE_EMBED_CONTENT})baagate_embed\";\n"
  "  return {kYaml, sizeof(kYaml) - 1};\n"
  "}\n"
  "}  // namespace baagate::config\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
