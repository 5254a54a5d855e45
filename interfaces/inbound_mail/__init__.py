"""Mail we receive: unsubscribe requests sent to the ``List-Unsubscribe`` mailto address."""
