// The runner of unit-tests.
#define CATCH_CONFIG_MAIN
// Catch2's runner instantiates std::regex, in which g++ 12 sees a false
// -Wmaybe-uninitialized when the sanitizers are on.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <catch2/catch.hpp>
#pragma GCC diagnostic pop
