# mask-rcnn_r50_fpn_fed-loss_random-ms-1x_lvis-v1 with ResNet-101, repeat factor sampling (t = 1e-3).
_base_ = './mask-rcnn_r50_fpn_fed-loss_random-ms-1x_lvis-v1.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
train_dataloader = dict(dataset=dict(
    _delete_=True, type='ClassBalancedDataset', oversample_thr=1e-3, dataset={{_base_.lvis_train_dataset}}))
