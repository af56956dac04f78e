# ROG on LVIS v1 without a schedule: ../../_base_/mask-rcnn_r50_fpn_lvis-v1.py with ROGShared2FCBBoxHead,
# SigmoidCELoss and loss_rank, 4 images per GPU. The LVIS v1 mask-rcnn_*_rog_* configs pair it with
# ./lvis_{1x,2x}_rog.py.
_base_ = '../../_base_/mask-rcnn_r50_fpn_lvis-v1.py'
model = dict(roi_head=dict(bbox_head=dict(
    type='ROGShared2FCBBoxHead', loss_cls=dict(_delete_=True, type='SigmoidCELoss', num_classes={{_base_.num_classes}}),
    loss_rank=dict(type='ROGRankingLoss', gamma=1.0, lam=0.1, delta=0.5))))
train_dataloader = dict(batch_size=4)  # official: 4 images per GPU (lr and clipping: ./lvis_{1x,2x}_rog.py)
