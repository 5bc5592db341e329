"""Where the staff's ticket endpoints live (the app's body limits name one of them)."""

TICKETS = "/api/v1/desk/tickets"
UPLOADS = "/api/v1/desk/uploads/"  # a reply's files: the larger body limit of uploads
