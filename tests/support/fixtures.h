// Reading parity fixtures written by the torch scripts in tests/fixtures/.
//
// A fixture is a JSON file whose "command" field says how to regenerate it and
// whose tensors are {"shape": [...], "dtype": "float32"|"float64"|"int64",
// "data": [flat row-major values]}. Python writes them with
// tests/fixtures/fixture_io.py (tensor_to_json). A missing file fails the test
// with the regeneration command; it never skips.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "graft.h"

namespace graft::testing {

// Parses GRAFT_FIXTURES_DIR/<name>; throws Error naming the path if absent.
nlohmann::json load_fixture(const std::string& name);
// The same, and checks its "format" field: a stale fixture fails with the
// command that regenerates it.
nlohmann::json load_fixture(const std::string& name, const std::string& format);
// A tensor from {"shape", "dtype", "data"}.
Tensor tensor_from_json(const nlohmann::json& j);
// Largest |a - b| / (atol + rtol * |b|) over all elements (<= 1 means close);
// shapes must match.
double closeness(const Tensor& actual, const Tensor& expected, double atol, double rtol);
// max |actual - expected| / max |expected| (the parity figure the tests report);
// a NaN anywhere gives infinity. Shapes must match.
double rel_err(const Tensor& actual, const Tensor& expected);

}  // namespace graft::testing
