// The autograd engine: accumulation, retain_graph, hooks, detach, version
// counters, and no gradient work for inputs that need none.
#include <catch2/catch.hpp>

#include "graft.h"
#include "core/autograd/node.h"

using namespace graft;
using Catch::Matchers::Contains;

TEST_CASE("gradients accumulate into leaves across uses and calls", "[autograd]") {
    Tensor x = from_vector<double>({1, 2, 3}).requires_grad_();
    Tensor y = sum(add(mul(x, x), x));  // d/dx = 2x + 1
    y.backward();
    CHECK(x.grad().to_vector<double>() == std::vector<double>{3, 5, 7});
    sum(x).backward();  // accumulates
    CHECK(x.grad().to_vector<double>() == std::vector<double>{4, 6, 8});
}

TEST_CASE("backward twice without retain_graph names the op", "[autograd][errors]") {
    Tensor x = from_vector<double>({1, 2}).requires_grad_();
    Tensor y = sum(mul(x, x));
    y.backward(Tensor(), /*retain_graph=*/true);
    y.backward();
    CHECK(x.grad().to_vector<double>() == std::vector<double>{4, 8});
    CHECK_THROWS_WITH(y.backward(), Contains("backward: trying to backward") && Contains("second time") && Contains("retain_graph"));
}

TEST_CASE("a saved tensor modified in place is refused", "[autograd][errors]") {
    Tensor x = from_vector<double>({1, 2}).requires_grad_();
    Tensor a = add(x, 1.0);  // non-leaf
    Tensor y = mul(a, a);
    {
        NoGradGuard no_grad;
        a.add_(1.0);
    }
    CHECK_THROWS_WITH(sum(y).backward(), Contains("mul backward") && Contains("modified by an in-place operation"));
}

TEST_CASE("in-place ops on non-leaves keep a correct history", "[autograd]") {
    Tensor x = from_vector<double>({1, 2}).requires_grad_();
    Tensor a = mul(x, 2.0);
    a.mul_(x);  // a = 2x^2
    sum(a).backward();
    CHECK(x.grad().to_vector<double>() == std::vector<double>{4, 8});
}

TEST_CASE("in-place on a leaf that requires grad is an error", "[autograd][errors]") {
    Tensor x = from_vector<double>({1, 2}).requires_grad_();
    CHECK_THROWS_WITH(x.add_(1.0), Contains("add_") && Contains("leaf"));
}

TEST_CASE("no gradient is computed for inputs that do not need it", "[autograd]") {
    Tensor w = from_vector<double>({1, 2}).requires_grad_();
    Tensor frozen = from_vector<double>({3, 4});
    Tensor y = sum(mul(w, frozen));
    REQUIRE(y.grad_fn());
    const auto& edges = y.grad_fn()->next_edges;
    REQUIRE(edges.size() == 1);
    const auto& mul_node = edges[0].node;
    REQUIRE(mul_node);
    CHECK(mul_node->needs_input_grad(0));
    CHECK_FALSE(mul_node->needs_input_grad(1));
    y.backward();
    CHECK_FALSE(frozen.grad().defined());
}

TEST_CASE("NoGradGuard records nothing", "[autograd]") {
    Tensor w = from_vector<double>({1, 2}).requires_grad_();
    NoGradGuard guard;
    Tensor y = mul(w, w);
    CHECK_FALSE(y.requires_grad());
    CHECK_FALSE(y.grad_fn());
}

TEST_CASE("detach shares storage and cuts the graph", "[autograd]") {
    Tensor w = from_vector<double>({1, 2}).requires_grad_();
    Tensor a = mul(w, 3.0);
    Tensor d = a.detach();
    CHECK_FALSE(d.requires_grad());
    CHECK(d.storage() == a.storage());
}

TEST_CASE("tensor hooks see and replace gradients", "[autograd]") {
    Tensor x = from_vector<double>({1, 2}).requires_grad_();
    Tensor a = mul(x, 2.0);
    std::vector<double> seen;
    a.register_hook([&](const Tensor& g) {
        seen = g.to_vector<double>();
        return mul(g, 10.0);
    });
    x.register_hook([](const Tensor& g) { return add(g, 1.0); });
    sum(a).backward();
    CHECK(seen == std::vector<double>{1, 1});
    CHECK(x.grad().to_vector<double>() == std::vector<double>{21, 21});
}

TEST_CASE("retain_grad keeps a non-leaf's gradient", "[autograd]") {
    Tensor x = from_vector<double>({1, 2}).requires_grad_();
    Tensor a = mul(x, 2.0);
    a.retain_grad();
    sum(mul(a, a)).backward();
    CHECK(a.grad().to_vector<double>() == std::vector<double>{4, 8});
}

TEST_CASE("backward on a non-scalar needs a gradient", "[autograd][errors]") {
    Tensor x = from_vector<double>({1, 2}).requires_grad_();
    Tensor y = mul(x, 2.0);
    CHECK_THROWS_WITH(y.backward(), Contains("non-scalar") && Contains("float64[2]"));
    y.backward(from_vector<double>({1, 0.5}));
    CHECK(x.grad().to_vector<double>() == std::vector<double>{2, 1});
}

TEST_CASE("backward on a tensor without grad is an error", "[autograd][errors]") {
    Tensor x = from_vector<double>({1, 2});
    CHECK_THROWS_WITH(sum(x).backward(), Contains("does not require grad"));
}

TEST_CASE("broadcast gradients are summed back to the input shape", "[autograd]") {
    Tensor a = ones({2, 3}, DType::Float64).requires_grad_();
    Tensor b = from_vector<double>({1, 2, 3}).requires_grad_();
    sum(mul(a, b)).backward();
    CHECK(b.grad().to_vector<double>() == std::vector<double>{2, 2, 2});
    CHECK(a.grad().shape() == Shape{2, 3});
}

TEST_CASE("copy_ records: the gradient flows to the source, not the old value", "[autograd]") {
    Tensor x = from_vector<double>({1, 2}).requires_grad_();
    Tensor s = from_vector<double>({3}).requires_grad_();
    Tensor a = mul(x, 2.0);
    a.copy_(s);  // a = [s, s]
    sum(mul(a, a)).backward();
    CHECK(s.grad().to_vector<double>() == std::vector<double>{12});
    CHECK_FALSE(x.grad().defined());
    CHECK_THROWS_WITH(x.copy_(s), Contains("copy_") && Contains("leaf"));
}
