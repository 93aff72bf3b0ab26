// The zoo parity files of tests/fixtures/make_zoo_fixtures.py (~240 MB, too big
// to commit), generated once per build folder into zoo_fixtures/ beside the test
// executable (tests/support/generated_fixtures.h). Without Debian's python3-torch
// and python3-torchvision the test FAILS (never skips).
#pragma once

#include <string>

#include "tests/support/generated_fixtures.h"

namespace graft::testing {

inline std::string zoo_fixture_dir() {
    return generated_fixture_dir("make_zoo_fixtures.py", "zoo_fixtures",
                                 "The script needs /usr/bin/python3 with Debian's python3-torch and "
                                 "python3-torchvision: tools/setup.sh installs them.");
}

}  // namespace graft::testing
