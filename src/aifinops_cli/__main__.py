from aifinops_cli.cli.app import main

main()
