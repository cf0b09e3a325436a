"""Building and pushing catalog images, and handing the image graph to other build engines."""
