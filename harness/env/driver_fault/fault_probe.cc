#include "harness/env/driver_fault/fault_probe.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace harness::testing {

std::string FaultTestName(CudaState fault) {
  std::string name(CudaStateName(fault));
  for (char& ch : name) {
    if (ch == '-') ch = '_';
  }
  return name;
}

ChildResult ProbeInstalled(const std::string& stand_in, CudaState fault, const std::function<std::string()>& probe) {
  return RunInFork([&] {
    Status s = InstallDriverFault(stand_in, fault);
    if (!s.ok()) return Field("install", s.ToString());
    return probe();
  });
}

ChildResult ProbeFreshProcess(const std::string& stand_in, CudaState fault, const char* flag) {
  const char* inherited = std::getenv("LD_LIBRARY_PATH");
  return RunSelf({flag}, DriverFaultEnvironment(stand_in, fault, inherited != nullptr ? inherited : ""));
}

int ProbeOrTestMain(int argc, char** argv, const char* flag, std::string (*probe)()) {
  if (argc == 2 && std::strcmp(argv[1], flag) == 0) {
    std::string out = probe();
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

}  // namespace harness::testing
