"""reporting-caseworker: the caseworker client that decrypts on the caseworker's machine."""
