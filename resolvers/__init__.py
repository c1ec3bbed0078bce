"""The service layer: every rule of the domain. No GraphQL or HTTP here."""
