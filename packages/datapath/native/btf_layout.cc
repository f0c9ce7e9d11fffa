// Struct layouts from the BTF of a compiled object, so the TypeScript codecs
// can be checked against what the compiler actually laid out.
#include <bpf/btf.h>
#include <errno.h>

#include <string>

#include "errors.h"
#include "exports.h"

namespace tycho {

namespace {

// btfStructLayout(objectPath, structName)
//   -> { size, members: [{ name, offsetBytes, sizeBytes }] }
Napi::Value BtfStructLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();

  struct btf* btf = btf__parse(path.c_str(), nullptr);
  if (!btf) {
    int err = errno;
    ThrowErrno(env, "reading BTF of " + path, err);
  }
  int id = btf__find_by_name_kind(btf, name.c_str(), BTF_KIND_STRUCT);
  if (id < 0) {
    btf__free(btf);
    ThrowErrno(env, "no struct " + name + " in the BTF of " + path, ENOENT);
  }
  const struct btf_type* type = btf__type_by_id(btf, id);
  Napi::Object out = Napi::Object::New(env);
  out.Set("size", type->size);
  Napi::Array members = Napi::Array::New(env);
  const struct btf_member* m = btf_members(type);
  for (uint32_t i = 0; i < btf_vlen(type); i++, m++) {
    uint32_t bit_offset = btf_member_bit_offset(type, i);
    if (btf_member_bitfield_size(type, i) != 0 || bit_offset % 8 != 0) {
      btf__free(btf);
      ThrowErrno(env, "struct " + name + " in " + path + " has a bitfield, which codecs do not support", EINVAL);
    }
    Napi::Object member = Napi::Object::New(env);
    member.Set("name", btf__name_by_offset(btf, m->name_off));
    member.Set("offsetBytes", bit_offset / 8);
    member.Set("sizeBytes", Napi::Number::New(env, static_cast<double>(btf__resolve_size(btf, m->type))));
    members.Set(i, member);
  }
  out.Set("members", members);
  btf__free(btf);
  return out;
}

}  // namespace

void InitBtfLayout(Napi::Env env, Napi::Object exports) {
  exports.Set("btfStructLayout", Napi::Function::New<BtfStructLayout>(env, "btfStructLayout"));
}

}  // namespace tycho
