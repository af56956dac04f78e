# Plain binary cross-entropy (mean over B x C), ResNet-50 + PFC neck, COCO-MLT, the DB-loss schedule: the "BCE" row.
# Every row of this folder is DistributionBalancedLoss with parts switched on or off, so all share the loss scale.
# Model, loss and schedule: ./_base_/bce_resnet50-pfc_8e.py; map_mu 0.2 is the paper's COCO-MLT value.
#   python tools/train.py configs/db_loss/bce_resnet50-pfc_1xb32_coco-mlt_8e.py
_base_ = ['./_base_/bce_resnet50-pfc_8e.py', '../_base_/datasets/coco_mlt.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}}, map_mu=0.2)))
# The official loader (mllt/datasets/loader/build_loader.py) drops the last incomplete batch.
train_dataloader = dict(drop_last=True)
