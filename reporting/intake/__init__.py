"""What reporters do: the reporter's pages (pages/), reports and follow-ups stored whole
or not at all, uploads encrypted as they stream in, codename derivations, coming back to
a report (its status and replies), and the limits that keep abuse out without identity."""
