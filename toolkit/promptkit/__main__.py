"""``python -m promptkit``, also ``accelerate launch -m promptkit eval ...`` on several GPUs."""

from promptkit.cli import main

main()
