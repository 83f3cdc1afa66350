#include "harness/base/classify.h"

namespace harness {
namespace {

struct Rule {
  std::string_view fragment;
  ErrorClass error_class;
};

// Order matters: specific fragments before general ones.
constexpr Rule kRules[] = {
    // Device index beyond the device count (real CUDA, virtual devices, and
    // Python's torch.load device check).
    {"invalid device ordinal", ErrorClass::kInvalidDeviceOrdinal},
    {"Attempting to deserialize object on CUDA device", ErrorClass::kInvalidDeviceOrdinal},
    // Old driver (cudaErrorInsufficientDriver with a driver present).
    {"driver on your system is too old", ErrorClass::kInsufficientDriver},
    {"CUDA driver version is insufficient", ErrorClass::kInsufficientDriver},
    // Device memory.
    {"CUDA out of memory", ErrorClass::kOutOfMemory},
    {"out of memory", ErrorClass::kOutOfMemory},
    {"can't allocate memory", ErrorClass::kOutOfMemory},  // LibTorch's CPU allocator
    {"std::bad_alloc", ErrorClass::kOutOfMemory},          // C++ new under the worker's data cap
    {"MemoryError", ErrorClass::kOutOfMemory},             // Python, likewise
    // No usable CUDA at all.
    {"No CUDA GPUs are available", ErrorClass::kCudaUnavailable},
    {"Found no NVIDIA driver", ErrorClass::kCudaUnavailable},
    {"no CUDA-capable device is detected", ErrorClass::kCudaUnavailable},
    {"Torch not compiled with CUDA enabled", ErrorClass::kCudaUnavailable},
    {"with arguments from the 'CUDA' backend", ErrorClass::kCudaUnavailable},
    {"torch.cuda.is_available() is False", ErrorClass::kCudaUnavailable},
    {"CUDA driver initialization failed", ErrorClass::kCudaUnavailable},
    // Unsafe pickles (Python's weights_only loader).
    // A TorchScript archive read as a plain pickle (its classes are code).
    {"Unpickler found unknown type __torch__.", ErrorClass::kUnsupportedFormat},
    {"Cannot use ``weights_only=True`` with TorchScript archives", ErrorClass::kUnsupportedFormat},
    {"Weights only load failed", ErrorClass::kUnsafePickle},
    {"Unpickler found unknown type", ErrorClass::kUnsafePickle},  // os.system, builtins.eval, ...
    {"Unsupported global", ErrorClass::kUnsafePickle},
    // A dict that holds itself (the harness's readers and harness_loader.py).
    {"a container that contains itself", ErrorClass::kCorruptCheckpoint},
    // A DCP checkpoint missing a rank's file (tools/strategies/dcp_load.py).
    {"DCP checkpoint incomplete or damaged", ErrorClass::kCorruptCheckpoint},
    // Files that cannot be opened (LibTorch's file adapter, both legs).
    {"open file failed because of errno", ErrorClass::kIoError},
    {"[Errno 2] No such file or directory", ErrorClass::kIoError},  // Python
    {"FileNotFoundError", ErrorClass::kIoError},                      // Python safetensors
    // Damaged archives.
    {"PytorchStreamReader failed", ErrorClass::kCorruptCheckpoint},
    {"failed finding central directory", ErrorClass::kCorruptCheckpoint},
    {"Unknown opcode", ErrorClass::kCorruptCheckpoint},
    {"file not found", ErrorClass::kCorruptCheckpoint},
    {"archive does not contain any files", ErrorClass::kCorruptCheckpoint},
    {"Unpickler found unknown torch global", ErrorClass::kCorruptCheckpoint},  // e.g. a storage type
    {"Unexpected end of pickler archive", ErrorClass::kCorruptCheckpoint},
    {"OSError: [Errno 22]", ErrorClass::kCorruptCheckpoint},  // Python seeking to an offset the file lacks
    {"Error while deserializing header", ErrorClass::kCorruptCheckpoint},  // Python safetensors
    {"Only Pickle protocol 2 is supported", ErrorClass::kUnsupportedFormat},
    {"IsADirectoryError", ErrorClass::kIoError},
    {"Expected hasRecord(", ErrorClass::kCorruptCheckpoint},     // a record the archive needs is missing
    {"Expected length to be", ErrorClass::kCorruptCheckpoint},   // LibTorch's unpickler on a LONG1
    {"EOFError", ErrorClass::kCorruptCheckpoint},                // Python: the file ends early
    {"integer multiplication overflow", ErrorClass::kCorruptCheckpoint},
    {"Storage size calculation overflowed", ErrorClass::kCorruptCheckpoint},
    {"Trying to resize storage that is not resizable", ErrorClass::kCorruptCheckpoint},  // past the record
    {"does not match expected size", ErrorClass::kCorruptCheckpoint},                    // record vs numel
    {"not a zip archive", ErrorClass::kUnsupportedFormat},
    {"not a safetensors file", ErrorClass::kUnsupportedFormat},  // tools/strategies/safetensors_load.py
    {"UnicodeDecodeError", ErrorClass::kUnsupportedFormat},  // Python's legacy reader on other bytes
    // LibTorch's C++ unpickler turns collections.OrderedDict (what Python's
    // module.state_dict() returns) into None, then fails filling it.
    {"Expected GenericDict but got None", ErrorClass::kUnsupportedFormat},
    {"pickle checkpoint is not a dict", ErrorClass::kUnsupportedFormat},
    {"Invalid magic number", ErrorClass::kUnsupportedFormat},
    // Bad device strings.
    {"Expected one of cpu, cuda", ErrorClass::kInvalidArgument},
    {"Invalid device string", ErrorClass::kInvalidArgument},
    {"Device string must not be empty", ErrorClass::kInvalidArgument},
    {"Could not parse device index", ErrorClass::kInvalidArgument},
};

}  // namespace

ErrorClass ClassifyMessage(std::string_view message, ErrorClass unclassified) {
  for (const Rule& rule : kRules) {
    if (message.find(rule.fragment) != std::string_view::npos) return rule.error_class;
  }
  return unclassified;
}

}  // namespace harness
