// Real messages captured from each leg (see the comment on each) map to the
// classes scenarios name.
#include "harness/base/classify.h"

#include <gtest/gtest.h>

namespace harness {
namespace {

struct Captured {
  const char* source;
  const char* message;
  ErrorClass expected;
};

const Captured kCaptured[] = {
    // LibTorch 1.13 CPU build, virtual devices (harness/env/virtual_cuda).
    {"virtual", "CUDA error: invalid device ordinal\nCUDA kernel errors might be asynchronously reported",
     ErrorClass::kInvalidDeviceOrdinal},
    {"virtual", "No CUDA GPUs are available", ErrorClass::kCudaUnavailable},
    {"virtual",
     "CUDA out of memory. Tried to allocate 800 bytes (GPU 0; 1.00 KiB total capacity; 0 bytes already allocated; "
     "virtual device)",
     ErrorClass::kOutOfMemory},
    // LibTorch 1.13 CPU build, no virtual backend linked.
    {"1.13-cpu",
     "Could not run 'aten::empty_strided' with arguments from the 'CUDA' backend. This could be because the operator "
     "doesn't exist for this backend",
     ErrorClass::kCudaUnavailable},
    // LibTorch 2.x CUDA build.
    {"2.x-cuda",
     "Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed a driver",
     ErrorClass::kCudaUnavailable},
    {"2.x-cuda", "The NVIDIA driver on your system is too old (found version 9000).", ErrorClass::kInsufficientDriver},
    {"2.x-cuda", "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.19 GiB",
     ErrorClass::kOutOfMemory},
    // Python torch.load.
    {"python", "Attempting to deserialize object on CUDA device 1 but torch.cuda.device_count() is 1.",
     ErrorClass::kInvalidDeviceOrdinal},
    {"python", "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False.",
     ErrorClass::kCudaUnavailable},
    {"python", "Weights only load failed. Unsupported global: GLOBAL os.system", ErrorClass::kUnsafePickle},
    // LibTorch (both legs) loading Python's torch.save(module.state_dict()).
    {"both",
     "isGenericDict() INTERNAL ASSERT FAILED at \"./aten/src/ATen/core/ivalue_inl.h\":1945, please report a bug to "
     "PyTorch. Expected GenericDict but got None",
     ErrorClass::kUnsupportedFormat},
    // Archives.
    {"both", "PytorchStreamReader failed reading zip archive: failed finding central directory",
     ErrorClass::kCorruptCheckpoint},
    {"both", "x.pt: not a zip archive (no PK header)", ErrorClass::kUnsupportedFormat},
    {"both", "open file failed because of errno 2 on fopen: No such file or directory, file path: x.pt",
     ErrorClass::kIoError},
    {"python", "FileNotFoundError: [Errno 2] No such file or directory: 'x.pt'", ErrorClass::kIoError},
    // torch.distributed.checkpoint, through tools/strategies/dcp_load.py.
    {"dcp", "RuntimeError: DCP checkpoint incomplete or damaged: FileNotFoundError: [Errno 2] No such file or "
            "directory: '/tmp/dcp-x/checkpoint/__1_0.distcp'",
     ErrorClass::kCorruptCheckpoint},
    // Python safetensors 0.8.
    {"safetensors", "FileNotFoundError: No such file or directory: /tmp/x.safetensors", ErrorClass::kIoError},
    {"safetensors", "SafetensorError: Error while deserializing header: incomplete metadata, file not fully covered",
     ErrorClass::kCorruptCheckpoint},
    {"safetensors", "SafetensorError: Error while deserializing header: invalid offset for tensor `v`",
     ErrorClass::kCorruptCheckpoint},
    {"safetensors", "SafetensorError: Error while deserializing header: header too large",
     ErrorClass::kCorruptCheckpoint},
};

TEST(ClassifyMessage, CapturedMessagesMapToTheirClasses) {
  for (const Captured& c : kCaptured) {
    EXPECT_EQ(ClassifyMessage(c.message), c.expected) << c.source << ": " << c.message;
  }
}

TEST(ClassifyMessage, UnknownMessageIsInternal) {
  EXPECT_EQ(ClassifyMessage("something else broke"), ErrorClass::kInternal);
}

}  // namespace
}  // namespace harness
