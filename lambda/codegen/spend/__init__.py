"""Spend per caller: the tokens and estimated cost of every generation, counted per caller,
day and month (UTC) in the stage's spend table, and the budgets that hold before the model
is called (a reservation of what a request may use, settled to what it used)."""
