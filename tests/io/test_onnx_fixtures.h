// The ONNX files of tests/fixtures/make_onnx_fixtures.py (resnet18 is ~45 MB, and
// the hostile cases need symlinks, which are relative and survive the rename),
// generated once per build folder into onnx_fixtures/ beside the test executable
// (tests/support/generated_fixtures.h). Without the packages below the test
// FAILS (never skips).
#pragma once

#include <string>

#include "tests/support/generated_fixtures.h"

namespace graft::testing {

inline std::string onnx_fixture_dir() {
    return generated_fixture_dir("make_onnx_fixtures.py", "onnx_fixtures",
                                 "The script needs /usr/bin/python3 with Debian's python3-torch, python3-torchvision, "
                                 "python3-onnx and libonnx-testdata: tools/setup.sh installs them.");
}

}  // namespace graft::testing
