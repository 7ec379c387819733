"""What the whole service stands on: its settings, the database and its migrations, the blob
store of ciphertext, the instance folder's files, the task queue as the web app sees it,
the operators' `flask` commands and `flask doctor`."""
