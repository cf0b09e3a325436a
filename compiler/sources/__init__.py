"""Sources turn declared inputs into locked values. Only these modules do network I/O."""
