"""Operations: health, migrations of stored data, and the abuse limits."""
