"""The command-line applications: ``demo``, ``train`` and ``predict`` (see ``chainrule.cli``).

These modules are imported to build the argument parser, so they import nothing heavy at
the top; the work lives in :mod:`.casestudy` and :mod:`.mlp`.
"""

#: Gradient-descent steps and learning rate of ``chainrule demo`` on each Figure 5.3 problem.
DEMO_STEPS = 20000
DEMO_LR = 0.006
