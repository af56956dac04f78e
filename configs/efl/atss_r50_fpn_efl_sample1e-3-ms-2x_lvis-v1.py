# EFL's official recipe (ModelTC/EOD configs/det/efl/efl_improved_baseline_r50_2x_rfs.yaml): the ATSS-like R50
# detector of ./_base_/atss_r50_fpn_efl_lvis-v1.py with EFL's 2x optimisation (./_base_/lvis_2x_efl.py).
_base_ = ['./_base_/atss_r50_fpn_efl_lvis-v1.py', './_base_/lvis_2x_efl.py']
