// Errors thrown to JavaScript: what failed, on what, and the system's reason.
#pragma once

#include <napi.h>

#include <string>

namespace tycho {

// Throws a JS Error "<what>: <strerror(err)>" with `errno` and `code` set.
// `err` is a positive errno value.
[[noreturn]] void ThrowErrno(Napi::Env env, const std::string& what, int err,
                             const std::string& detail = "");

// Throws a TypeError for a bad argument.
[[noreturn]] void ThrowType(Napi::Env env, const std::string& message);

// Name of a BPF map for error messages ("fd N" when it cannot be found).
std::string MapLabel(int fd);

}  // namespace tycho
