# ROG on top of Seesaw, LVIS v1, without a schedule: the Seesaw base with ROGShared2FCBBoxHead's loss_rank and
# NormedConv2d(tau=20) masks, 4 images per GPU. The LVIS v1 mask-rcnn_*_rog-seesaw_* configs pair it with
# ./lvis_{1x,2x}_rog.py.
_base_ = '../../seesaw/_base_/mask-rcnn_r50_fpn_seesaw-loss_lvis-v1.py'
model = dict(roi_head=dict(
    bbox_head=dict(type='ROGShared2FCBBoxHead', loss_rank=dict(type='ROGRankingLoss', gamma=1.0, lam=0.1, delta=0.5)),
    mask_head=dict(predictor_cfg=dict(type='NormedConv2d', tempearture=20))))  # (sic) mmdet's argument name
train_dataloader = dict(batch_size=4)  # official: 4 images per GPU (lr and clipping: ./lvis_{1x,2x}_rog.py)
