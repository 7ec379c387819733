"""A codename made before the other forms existed, in each form: it must keep deriving the same."""

from __future__ import annotations

# A codename as the code before these forms derived it (computed on main, commit 788c935):
# its lookup id and reply key must never change, or stored reports would be lost.
OLD_CODENAME = "abacus bronco cradle dwelling exalted fraction gumball"
OLD_LOOKUP_ID = "0ea7a50aa6beee79e7e291b0a2e4be5cd78650e3eab4af528b792ead1927f2d9"
OLD_X25519_RECIPIENT = "age1n35r3jlkhpkqht455l6rnl6sek68apypuuj67djvru4crcasdf0q0mcv9t"
OLD_DIGITS = "0000 0197 9244 2844 0892 9319 6628"
OLD_CHINESE = "的的北 局牧叔 孤稿尤"
