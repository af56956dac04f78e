# mmdet's RetinaNet R50-FPN with EFL (./_base_/retinanet_r50_fpn_efl_lvis-v1.py) and EFL's 2x optimisation
# (./_base_/lvis_2x_efl.py).
_base_ = ['./_base_/retinanet_r50_fpn_efl_lvis-v1.py', './_base_/lvis_2x_efl.py']
