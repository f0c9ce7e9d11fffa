// What the kernel says about a loaded program, looked up by its id.
#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <string>

#include "errors.h"
#include "exports.h"

namespace tycho {

namespace {

// programName(id): the program's name (the first 15 characters of its
// function name), or undefined when no program has the id (any more).
Napi::Value ProgramName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) ThrowType(env, "program id must be a number");
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) {
    if (errno == ENOENT) return env.Undefined();
    ThrowErrno(env, "opening program id " + std::to_string(id), errno);
  }
  struct bpf_prog_info prog_info;
  __u32 len = sizeof(prog_info);
  memset(&prog_info, 0, sizeof(prog_info));
  int ret = bpf_obj_get_info_by_fd(fd, &prog_info, &len);
  int err = errno;
  close(fd);
  if (ret < 0) ThrowErrno(env, "reading the info of program id " + std::to_string(id), err);
  return Napi::String::New(env, prog_info.name);
}

}  // namespace

void InitProgramInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("programName", Napi::Function::New<ProgramName>(env, "programName"));
}

}  // namespace tycho
