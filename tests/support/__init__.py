"""What the tests share: fixtures' building blocks, real servers, the skip-or-fail rule."""
