// A torch::jit::Module built in C++ survives save + load bit-exactly.
#include <gtest/gtest.h>
#include <torch/script.h>

#include <sstream>

namespace {

TEST(JitModuleRoundtrip, ParametersBuffersAndMethodSurvive) {
  torch::jit::Module module("Affine");
  at::Tensor weight = at::arange(12, at::kFloat).reshape({3, 4}) / 7.0;
  at::Tensor count = at::full({2}, 41, at::kLong);
  module.register_parameter("weight", weight, /*is_buffer=*/false);
  module.register_buffer("count", count);
  module.define(R"(
    def forward(self, x):
        return x.matmul(self.weight.t()) + 1.0
  )");

  std::stringstream archive;
  module.save(archive);
  archive.seekg(0);
  torch::jit::Module loaded = torch::jit::load(archive);

  at::Tensor loaded_weight = loaded.attr("weight").toTensor();
  at::Tensor loaded_count = loaded.attr("count").toTensor();
  EXPECT_TRUE(at::equal(loaded_weight, weight));
  EXPECT_EQ(0, std::memcmp(loaded_weight.data_ptr(), weight.data_ptr(), weight.nbytes()));
  EXPECT_TRUE(at::equal(loaded_count, count));
  // "weight" is still a parameter and "count" still a buffer.
  int parameters = 0;
  for (const auto& p : loaded.named_parameters()) {
    EXPECT_EQ(p.name, "weight");
    ++parameters;
  }
  EXPECT_EQ(parameters, 1);
  int buffers = 0;
  for (const auto& b : loaded.named_buffers()) {
    EXPECT_EQ(b.name, "count");
    ++buffers;
  }
  EXPECT_EQ(buffers, 1);

  at::Tensor x = at::ones({2, 4});
  at::Tensor expected = x.matmul(weight.t()) + 1.0;
  at::Tensor actual = loaded.forward({x}).toTensor();
  EXPECT_TRUE(at::equal(actual, expected));
}

}  // namespace
