from seedgraph.cli import main

main()
