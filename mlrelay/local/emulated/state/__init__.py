"""What moto's backends hold, saved to the state folder and put back at a start: the part of mlrelay/local/durable/
that reads and writes moto's objects (its store, write journal and interrupted runs know nothing of moto)."""
