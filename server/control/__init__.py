"""The control plane: the request journal and the admin routes under /_chatdouble/."""
