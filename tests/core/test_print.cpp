// Tensor::str(): exact strings in PyTorch's format (the expected values are what
// torch prints for the same tensors, with Graft's own dtype and size spelling),
// layouts, dtypes, summarising and suffixes.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "graft.h"

using namespace graft;
using Catch::Matchers::Contains;

TEST_CASE("floats print with 4 decimals and a common width", "[print]") {
    CHECK(from_vector<float>({0.1234f, -1.5f, 2, 3}, {2, 2}).str() ==
          "tensor([[ 0.1234, -1.5000],\n"
          "        [ 2.0000,  3.0000]])");
    CHECK(from_vector<float>({0.5f, 0.0f}).str() == "tensor([0.5000, 0.0000])");
    CHECK(scalar_tensor(3.5).str() == "tensor(3.5000)");
}

TEST_CASE("integer-valued floats print as '1.'", "[print]") {
    CHECK(from_vector<float>({1, 2, 3}).str() == "tensor([1., 2., 3.])");
    CHECK(from_vector<float>({-1, 20}).str() == "tensor([-1., 20.])");
    CHECK(zeros({2}).str() == "tensor([0., 0.])");
    CHECK(scalar_tensor(-2.0).str() == "tensor(-2.)");
}

TEST_CASE("scientific notation when the magnitudes need it", "[print]") {
    CHECK(from_vector<float>({1e-5f, 1}).str() == "tensor([1.0000e-05, 1.0000e+00])");
    CHECK(from_vector<double>({-1e-5, 1}).str() == "tensor([-1.0000e-05,  1.0000e+00], dtype=float64)");
    CHECK(from_vector<float>({1, 1e9f}).str() == "tensor([1.0000e+00, 1.0000e+09])");
    CHECK(from_vector<float>({1, 10000}).str() == "tensor([1.0000e+00, 1.0000e+04])");
    CHECK(from_vector<float>({1, 1000}).str() == "tensor([   1., 1000.])");
}

TEST_CASE("non-finite values print as inf and nan", "[print]") {
    CHECK(from_vector<float>({1, INFINITY, NAN}).str() == "tensor([1., inf, nan])");
    CHECK(from_vector<float>({1.5f, -INFINITY}).str() == "tensor([1.5000,   -inf])");
    CHECK(from_vector<float>({-NAN}).str() == "tensor([nan])");
}

TEST_CASE("integers and bools print plainly", "[print]") {
    CHECK(arange(5).str() == "tensor([0, 1, 2, 3, 4])");
    CHECK(from_vector<int64_t>({-3, 10}).str() == "tensor([-3, 10])");
    CHECK(from_vector<int32_t>({1, 2}).str() == "tensor([1, 2], dtype=int32)");
    CHECK(from_vector<uint8_t>({255, 0}).str() == "tensor([255,   0], dtype=uint8)");
    CHECK(from_vector<bool>({true, false}).str() == "tensor([ True, False])");
    CHECK(scalar_tensor(7, DType::Int64).str() == "tensor(7)");
}

TEST_CASE("16-bit floats print through float32", "[print]") {
    CHECK(from_vector<float>({0.1f}).to(DType::Float16).str() == "tensor([0.1000], dtype=float16)");
    CHECK(from_vector<float>({1.5f, 2}).to(DType::BFloat16).str() == "tensor([1.5000, 2.0000], dtype=bfloat16)");
}

TEST_CASE("non-contiguous and 3-d tensors print in logical order", "[print]") {
    CHECK(arange(6).reshape({2, 3}).t().str() ==
          "tensor([[0, 3],\n"
          "        [1, 4],\n"
          "        [2, 5]])");
    CHECK(arange(8).reshape({2, 2, 2}).str() ==
          "tensor([[[0, 1],\n"
          "         [2, 3]],\n"
          "\n"
          "        [[4, 5],\n"
          "         [6, 7]]])");
    CHECK(arange(3).reshape({3, 1}).expand({3, 2}).str() ==
          "tensor([[0, 0],\n"
          "        [1, 1],\n"
          "        [2, 2]])");
}

TEST_CASE("long rows wrap at 80 columns and suffixes move to a new line", "[print]") {
    CHECK(arange(30.0).str() ==
          "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
          "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n"
          "        28., 29.])");
    CHECK(arange(0, 14, 1, DType::Float64).str() ==
          "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.],\n"
          "       dtype=float64)");
}

TEST_CASE("large tensors are summarised with their size", "[print]") {
    CHECK(arange(2000).str() == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999], size=[2000])");
    CHECK(arange(10000).reshape({100, 100}).str() ==
          "tensor([[   0,    1,    2,  ...,   97,   98,   99],\n"
          "        [ 100,  101,  102,  ...,  197,  198,  199],\n"
          "        [ 200,  201,  202,  ...,  297,  298,  299],\n"
          "        ...,\n"
          "        [9700, 9701, 9702,  ..., 9797, 9798, 9799],\n"
          "        [9800, 9801, 9802,  ..., 9897, 9898, 9899],\n"
          "        [9900, 9901, 9902,  ..., 9997, 9998, 9999]], size=[100, 100])");
    const std::string s = randn({20, 30, 40}).str();
    CHECK_THAT(s, Contains("...") && Contains("size=[20, 30, 40]"));
    CHECK(s.size() < 3000);
    CHECK(arange(1000).str().find("...") == std::string::npos);  // 1000 is not above the threshold
}

TEST_CASE("empty tensors show their size and dtype", "[print]") {
    CHECK(zeros({0}).str() == "tensor([])");
    CHECK(zeros({2, 0}).str() == "tensor([], size=[2, 0])");
    CHECK(zeros({0}, DType::Int64).str() == "tensor([], dtype=int64)");
}

TEST_CASE("autograd state is shown as grad_fn or requires_grad", "[print]") {
    Tensor x = from_vector<float>({1, 2}).requires_grad_();
    CHECK(x.str() == "tensor([1., 2.], requires_grad=True)");
    CHECK(mul(x, 2.0).str() == "tensor([2., 4.], grad_fn=<mul>)");
    CHECK(x.detach().str() == "tensor([1., 2.])");
}

TEST_CASE("undefined tensors and operator<<", "[print]") {
    CHECK(Tensor().str() == "tensor(undefined)");
    std::ostringstream os;
    os << arange(2);
    CHECK(os.str() == "tensor([0, 1])");
}

TEST_CASE("CUDA tensors print their device", "[print][cuda]") {
    if (!cuda_available()) {
        WARN("skipped: " << cuda_unavailable_reason());
        return;
    }
    CHECK(from_vector<float>({1, 2}).to(Device::cuda()).str() == "tensor([1., 2.], device='cuda:0')");
}
