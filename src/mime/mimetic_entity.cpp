#include "mimetic_entity.hpp"

#include <exception>
#include <sstream>

#include "dmarcq/text.hpp"

namespace dmarcq::mime {

Expected<EntityPtr> load_entity(std::string_view raw, const Limits& limits,
                                PrescanOptions options) {
  auto prepared = prepare_for_mimetic(raw, limits, options);
  if (!prepared) return prepared.error();

  // Never a pointer range: from one, mimetic throws std::length_error on tiny
  // inputs and matches boundaries mid-line. An istream is parsed correctly.
  std::istringstream stream(std::move(*prepared));
  // Built before the try: if load() throws, the entity still owns (and frees)
  // the children it had already attached.
  auto entity = std::make_unique<mimetic::MimeEntity>();
  try {
    entity->load(stream);
  } catch (const std::exception& failure) {
    return make_error(ErrorKind::malformed,
                      std::string("MIME parser failed: ") + failure.what());
  }
  return entity;
}

std::optional<std::string> field_value(const mimetic::MimeEntity& entity, std::string_view name) {
  for (const auto& field : entity.header()) {
    const auto& field_name = field.name();  // mimetic::istring, not std::string
    if (iequals(std::string_view(field_name.data(), field_name.size()), name)) return field.value();
  }
  return std::nullopt;
}

std::string serialize(const mimetic::MimeEntity& entity) {
  std::ostringstream out;
  out << entity;
  return std::move(out).str();
}

}  // namespace dmarcq::mime
