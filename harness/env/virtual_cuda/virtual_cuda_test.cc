// Virtual CUDA devices behave like real ones as far as loading is concerned.
#include "harness/env/virtual_cuda/virtual_cuda.h"

#include <ATen/ops/arange.h>
#include <ATen/ops/empty.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include <sstream>

namespace harness::env {
namespace {

class VirtualCudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!VirtualCudaLinked()) GTEST_SKIP() << "CUDA build: no virtual backend";
    ResetVirtualCudaStats();
    SetVirtualCopyObserver([this](const VirtualCopy& c) { copies_.push_back(c); });
  }
  void TearDown() override {
    SetVirtualCopyObserver(nullptr);
    ConfigureVirtualCuda({});
  }
  std::vector<VirtualCopy> copies_;
};

// A TorchScript archive whose one storage is tagged cuda:`index`.
std::string SaveOnVirtualDevice(int index, const at::Tensor& cpu_value) {
  ConfigureVirtualCuda({.device_count = index + 1});
  torch::jit::Module module("M");
  module.register_buffer("w", cpu_value.to(at::Device(at::kCUDA, index)));
  std::stringstream out;
  module.save(out);
  return out.str();
}

TEST_F(VirtualCudaTest, AvailabilityAndCountFollowConfiguration) {
  ConfigureVirtualCuda({.device_count = 0});
  EXPECT_FALSE(torch::cuda::is_available());
  EXPECT_EQ(torch::cuda::device_count(), 0u);
  ConfigureVirtualCuda({.device_count = 2});
  EXPECT_TRUE(torch::cuda::is_available());
  EXPECT_EQ(torch::cuda::device_count(), 2u);
}

TEST_F(VirtualCudaTest, TensorsLiveOnTheRequestedDevice) {
  ConfigureVirtualCuda({.device_count = 2});
  at::Tensor t = at::arange(10, at::kFloat).to(at::Device("cuda:1"));
  EXPECT_TRUE(t.is_cuda());
  EXPECT_EQ(t.device().index(), 1);
  EXPECT_EQ(VirtualCudaMemory(1).allocated_bytes, 40);
  ASSERT_EQ(copies_.size(), 1u);
  EXPECT_EQ(copies_[0].src_device, -1);
  EXPECT_EQ(copies_[0].dst_device, 1);
  EXPECT_EQ(copies_[0].bytes, 40);
  EXPECT_TRUE(at::equal(t.to(at::kCPU), at::arange(10, at::kFloat)));
}

TEST_F(VirtualCudaTest, OrdinalBeyondCountIsInvalid) {
  ConfigureVirtualCuda({.device_count = 1});
  try {
    at::empty({4}, at::Device("cuda:1"));
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("invalid device ordinal"), std::string::npos) << e.what();
  }
}

TEST_F(VirtualCudaTest, NoDevicesMeansNoCuda) {
  ConfigureVirtualCuda({.device_count = 0});
  try {
    at::empty({4}, at::Device("cuda:0"));
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("No CUDA GPUs are available"), std::string::npos) << e.what();
  }
}

TEST_F(VirtualCudaTest, CapacityLimitRaisesOutOfMemory) {
  ConfigureVirtualCuda({.device_count = 1, .capacity_bytes = {1024}});
  at::Tensor fits = at::empty({200}, at::TensorOptions().dtype(at::kFloat).device("cuda:0"));
  EXPECT_THROW(at::empty({200}, at::TensorOptions().dtype(at::kFloat).device("cuda:0")), c10::OutOfMemoryError);
  EXPECT_EQ(VirtualCudaMemory(0).current_bytes, 800);
}

TEST_F(VirtualCudaTest, LoadOfCuda1ArchiveNeedsTwoDevices) {
  at::Tensor value = at::arange(256, at::kFloat);
  std::string archive = SaveOnVirtualDevice(1, value);

  ConfigureVirtualCuda({.device_count = 1});
  std::istringstream in1(archive);
  EXPECT_THROW(torch::jit::load(in1), c10::Error);

  ConfigureVirtualCuda({.device_count = 2});
  copies_.clear();
  std::istringstream in2(archive);
  torch::jit::Module loaded = torch::jit::load(in2);
  at::Tensor w = loaded.attr("w").toTensor();
  EXPECT_EQ(w.device(), at::Device("cuda:1"));
  ASSERT_EQ(copies_.size(), 1u);
  EXPECT_EQ(copies_[0].dst_device, 1);
  EXPECT_EQ(copies_[0].bytes, 1024);
  EXPECT_TRUE(at::equal(w.to(at::kCPU), value));
}

TEST_F(VirtualCudaTest, MapLocationCpuMovesNothing) {
  std::string archive = SaveOnVirtualDevice(1, at::arange(256, at::kFloat));
  ConfigureVirtualCuda({.device_count = 0});
  copies_.clear();
  std::istringstream in(archive);
  torch::jit::Module loaded = torch::jit::load(in, at::Device("cpu"));
  EXPECT_TRUE(loaded.attr("w").toTensor().device().is_cpu());
  EXPECT_TRUE(copies_.empty());
}

}  // namespace
}  // namespace harness::env
