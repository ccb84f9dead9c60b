// tests/support/doctest_main.cc — the one doctest main every suite links.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
